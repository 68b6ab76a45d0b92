"""Korea Investment & Securities (KIS) Open API: the adapter and a local server that speaks its protocol."""
