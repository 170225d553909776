"""Pure rules with no I/O: national ID numbers, region codes, certification periods, showing names."""
