"""Pure rules, no I/O: the classifier, the command parser and its verb table, CVSS, report states and
lifecycle, policy, the config schema."""
