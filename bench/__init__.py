"""ClubPress benchmark (`make bench`); figures go to stdout and bench/results/."""
