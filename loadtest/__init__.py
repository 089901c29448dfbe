"""The load test (`make loadtest`): the whole stack on this machine under a crowd."""
