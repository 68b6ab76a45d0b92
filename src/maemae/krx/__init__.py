"""maemae.krx"""
