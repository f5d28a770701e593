from dlstudy.cli.app import main

main()
