"""What operators run beside `serve`: the example configuration, `config check`, start-up
checks and the health probe. Nothing here is on the path of a call."""
