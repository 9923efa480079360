# The image the monthly drill's CronJob runs (deploy/k8s/drill-cronjob*.yaml). pip only, pinned by
# constraints.txt; no compiler, no apt: every dependency ships a wheel.
#   docker build -t registry.example.com/gameday:0.1.0 .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/gameday
COPY pyproject.toml constraints.txt README.md ./
# The drills, runbooks and profiles the CronJob names, relative to the working directory. Copied before the
# install: the package's templates (`gameday init`) are these folders, through symlinks in src/gameday/templates.
COPY drills ./drills
COPY runbooks ./runbooks
COPY loadprofiles ./loadprofiles
COPY experiments ./experiments
COPY environments ./environments
COPY src ./src
RUN pip install -c constraints.txt .
# Never root: the drill needs no privilege in the pod (AWS access comes from the service account's role).
RUN useradd --uid 10001 --create-home gameday && mkdir /results && chown gameday /results
USER 10001
ENTRYPOINT ["gameday"]
CMD ["--help"]
