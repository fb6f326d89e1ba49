"""Language-model endpoints Secbot may ask for a second opinion (off unless the operator sets one)."""
