"""The original pipeline's batch layer as an Airflow DAG running Larder.

Equivalent to declaring, on each batch view::

    materialization: { cron: '0 2 * * *', retries: 2, retryDelay: '5m', timeout: '2h' }

and running `larder scheduler`: daily at 02:00 UTC, 2 retries 5 minutes apart, a 2 h timeout,
one active run, no catch-up, a failure notice. Each run materializes up to the start of its
slot (Airflow's data_interval_end, which is the slot time for this schedule), so a retried or
re-run slot loads the same history: materialize-incremental is idempotent. Clearing an older
slot after a newer one ran changes nothing: its views are already materialized past it (each
prints "already materialized to ...: skipped" and the task succeeds).

Use it instead of `larder scheduler` when Airflow already schedules your pipelines; do not run
both for the same views. LARDER_HOME (the registry with its watermarks) and the stores must be
the same for every worker that runs the task.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

VIEWS = "user_segments,product_popularity"  # the views the scheduler would run


def notify_failure(context):
    """The failure notice: replace with your alerting (Slack, PagerDuty, e-mail ...)."""
    ti = context["task_instance"]
    print(f"larder materialization failed: {ti.dag_id}.{ti.task_id} {context['ts']}")


with DAG(
    dag_id="larder_materialize",
    schedule="0 2 * * *",  # daily at 02:00 UTC
    start_date=datetime(2026, 1, 1),
    catchup=False,  # no catch-up: only the latest slot runs
    max_active_runs=1,  # one active run
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": notify_failure,
    },
) as dag:
    BashOperator(
        task_id="materialize_incremental",
        bash_command=(
            "larder materialize-incremental"
            " --end {{ data_interval_end.isoformat() }}"
            f" --views {VIEWS}"
        ),
    )
