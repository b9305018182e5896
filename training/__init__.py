"""zerochurn.training"""
