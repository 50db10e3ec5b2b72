from saldo.channels.cli.main import main

main()
