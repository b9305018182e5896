"""zerochurn.features"""
