"""``gameday init --aws``: read-only discovery of what a tag selects in two regions, written as an environment
file whose every value names its source and whose undecided values are TODOs.

    facts.py      a value with its source or its TODO; the scope (tag, regions, clients)
    databases.py  RDS instances and their cross-region replicas, Aurora clusters and global databases
    compute.py    EKS clusters, their node groups' Auto Scaling groups, the primary region's zones
    services.py   ElastiCache replication groups, MSK clusters, CloudWatch alarms
    dns.py        the Route 53 record that points at the regions, and its mode
    run.py        all of them over one session; render.py the file
"""
