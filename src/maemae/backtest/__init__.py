"""maemae.backtest"""
