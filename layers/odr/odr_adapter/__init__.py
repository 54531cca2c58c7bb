"""odr-adapter domain package: the rules and operations behind every Lambda, testable without AWS."""
