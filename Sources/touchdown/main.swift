import TouchdownCLI

TouchdownCommand.main()
