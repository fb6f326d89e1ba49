"""Pure rules, no I/O: the classifier (its logic in detect, its signal tables in signals), the command
parser and its verb table, CVSS, report states and lifecycle, policy, the config schema."""
