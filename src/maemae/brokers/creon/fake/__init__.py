"""A fake of the Creon Plus COM objects over the simulated exchange, so the adapter runs on any OS."""
