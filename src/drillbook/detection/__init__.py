"""Detection backends: the local Sigma engine and SIEMs."""
