from saldo.channels.cli.entry import main

main()
