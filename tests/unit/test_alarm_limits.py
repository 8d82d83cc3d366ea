"""Every alarm pgvault derives fits CloudWatch's limits, whatever the monitor's schedule (issue 12, defect 8).

PutMetricAlarm accepts a period of 10, 20, 30 or a multiple of 60 seconds, and a
period times evaluation periods of at most 7 days, or 1 day when the period is
under an hour.  The rule is written out here on its own, as the oracle.
"""

from __future__ import annotations

import pytest

from pgvault.core.metrics import LAST_BACKUP_AGE
from pgvault.core.policy import AlarmSpec, alarm_specs
from tests.builders import make_stack

pytestmark = pytest.mark.unit


def _accepted(period: int, evaluations: int) -> bool:
    span = 86400 if period < 3600 else 7 * 86400
    return (period in (10, 20, 30) or period % 60 == 0) and evaluations >= 1 and period * evaluations <= span


@pytest.mark.parametrize("monitor", ["* * * * *", "*/5 * * * *", "0 * * * *", "0 */6 * * *", "0 0 * * *",
                                     "0 0 * * 0", "0 0 1 * *", "0 0 1 1 *"])
def test_every_alarm_of_any_monitor_schedule_fits_cloudwatch(monitor):
    for spec in alarm_specs(make_stack("prod", schedule={"monitor": monitor})):
        assert _accepted(spec.period, spec.evaluation_periods), (spec.key, spec.period, spec.evaluation_periods)


@pytest.mark.parametrize("period, evaluations, expected", [
    (600, 1, (600, 1)),
    (3600, 3, (3600, 3)),
    (600, 200, (600, 144)),             # one day of 10-minute periods
    (3600, 200, (3600, 168)),           # seven days of hourly periods
    (90, 1, (120, 1)),                  # a whole number of minutes
    (30, 5000, (30, 2880)),
    (62 * 86400, 1, (7 * 86400, 1)),    # a monthly monitor: the longest period CloudWatch evaluates
])
def test_a_spec_is_capped_to_cloudwatchs_limits(period, evaluations, expected):
    spec = AlarmSpec("k", LAST_BACKUP_AGE, 1, "GreaterThanThreshold", "Maximum", period, evaluations, "breaching", "d")
    assert (spec.period, spec.evaluation_periods) == expected
    assert _accepted(spec.period, spec.evaluation_periods)
