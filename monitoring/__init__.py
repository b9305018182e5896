"""zerochurn.monitoring"""
