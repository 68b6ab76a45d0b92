"""maemae.execution"""
