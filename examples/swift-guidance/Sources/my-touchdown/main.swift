import TouchdownCLI

// The whole touchdown command line, with the team's guidance registered:
// `my-touchdown replay TRACE --guidance cautious`, and
// `--guidance-cmd "my-touchdown guidance serve cautious"` for a run in its
// own process.
TouchdownCommand.main(guidances: [Cautious.self])
