"""zerochurn.serving"""
