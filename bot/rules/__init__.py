"""Pure rules, no I/O: the classifier, the command parser, lifecycle, policy, the config schema."""
