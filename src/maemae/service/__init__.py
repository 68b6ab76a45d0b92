"""The application service: what the CLI and the dashboard ask of a maemae instance, in one place."""
