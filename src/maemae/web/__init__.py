"""maemae.web"""
