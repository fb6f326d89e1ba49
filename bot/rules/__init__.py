"""Pure rules, no I/O: the classifier, the command parser, CVSS, lifecycle, policy, the config schema."""
