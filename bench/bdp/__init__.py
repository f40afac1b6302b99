"""Buffer sizing proved by throughput over netem in a VM guest (issue 11)."""
