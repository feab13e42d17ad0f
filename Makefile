# The first two targets are the README's first two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYVER := $(shell $(PYTHON) -c 'import sys; v=sys.version_info; print(f"{v[0]}.{v[1]}" if v[:2] == (3, 10) else "3.11")')
CONSTRAINTS := requirements/constraints-py$(PYVER).txt
STAMP := $(VENV)/.installed
DEMO_HOME ?= .demo
PYTEST_ARGS ?=
# MLflow 3 sends usage telemetry and writes ~/.config/mlflow unless told not to.
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: demo test test-fast ui bootstrap clean benchmark benchmark-sensors benchmark-partition benchmark-rivals benchmark-report

demo: $(STAMP)
	$(BIN)/monitoring-assets demo --home $(DEMO_HOME)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The plain decision and maths tests: no MLflow store, no Dagster instance.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bootstrap: $(STAMP)

$(STAMP): pyproject.toml setup.py $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

# Dagster's UI on :3000 and MLflow's on :5000, both over the demo's home; Ctrl-C stops both.
ui: $(STAMP)
	test -f $(DEMO_HOME)/monitoring.yaml || $(MAKE) demo
	@echo "Starting MLflow on :5000 and Dagster on :3000; Dagster takes 1-2 minutes: wait for 'Serving dagster-webserver'."
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(abspath $(DEMO_HOME))/mlflow/mlflow.db \
	  --artifacts-destination $(abspath $(DEMO_HOME))/mlflow/artifacts \
	  --host 127.0.0.1 --port 5000 & mlflow_pid=$$!; trap 'kill $$mlflow_pid 2>/dev/null' EXIT; \
	DAGSTER_HOME=$(abspath $(DEMO_HOME))/dagster MONITORING_CONFIG=$(abspath $(DEMO_HOME))/monitoring.yaml \
	  $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

benchmark: $(STAMP)
	$(BIN)/python -m benchmarks.profile_drift --rows 1000000

benchmark-sensors: $(STAMP)
	$(BIN)/python -m benchmarks.sensor_tick

benchmark-partition: $(STAMP)
	$(BIN)/python -m benchmarks.partition --rows 1000000

# NannyML and Evidently on the same partition; installs them in a temporary virtual environment.
benchmark-rivals: $(STAMP)
	$(BIN)/python -m benchmarks.rivals --rows 1000000

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache

benchmark-report: $(STAMP)
	$(BIN)/python -m benchmarks.report --partitions 365 --features 30
