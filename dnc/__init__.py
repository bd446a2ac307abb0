"""DNC and TCPA compliance: suppression sources and registry snapshots, calling-window rules and their data, consent,
the import scrub and the pre-dial gate, and the hash-chained audit ledger. Imports no other package of ours."""
