from rcauth.cli import main

main()
