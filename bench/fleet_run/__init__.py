"""Fleet run benchmark (#21): tune-tcp.yml on 30 and 100 containers at once."""
