"""Report scale benchmark (#21): the fleet report at 500, 5 000 and 10 000 hosts."""
