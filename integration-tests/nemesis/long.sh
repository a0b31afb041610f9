#!/usr/bin/env bash
# The long nemesis run as a scenario (scripts/nemesis.sh starts it): the same runs as the short
# tests, under the same harness check, round-robin over the nemeses until the minutes are up.
#   bash integration-tests/nemesis/long.sh --minutes N [--seed S] [--nemesis LIST] [--fault-seconds F]
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nemesis_lib.sh"
nem_main --fault-seconds 3 "$@"
