"""`python -m fapiao_gateway` is the `fapiao-gateway` command."""

from fapiao_gateway.cli import main

main()
