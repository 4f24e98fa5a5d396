"""The publishing workflow, checked offline: it tests with `make test` and deploys _build/html."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def load_workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflow_runs_on_push_to_main():
    workflow = load_workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "main" in triggers["push"]["branches"]


def test_workflow_tests_with_make_test_before_publishing():
    workflow = load_workflow()
    runs = [step.get("run", "") for step in steps(workflow)]
    assert any(run.strip() == "make test" for run in runs), runs
    uses = [step.get("uses", "") for step in steps(workflow)]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses), uses
    assert any(u.startswith("actions/deploy-pages@") for u in uses), uses
    upload = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    # The tested build is the published one: upload comes after `make test` in the same job.
    for job in workflow["jobs"].values():
        names = [s.get("run", s.get("uses", "")) for s in job.get("steps", [])]
        if "make test" in names:
            assert names.index("make test") < next(i for i, n in enumerate(names) if "upload-pages-artifact" in n)
    deploy = next(job for job in workflow["jobs"].values()
                  if any(s.get("uses", "").startswith("actions/deploy-pages@") for s in job.get("steps", [])))
    assert deploy.get("needs"), "deploy must wait for the tested build"
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_config_names_the_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"]
    assert url.startswith("https://github.com/") and len(url.rstrip("/").split("/")) == 5, url
    assert config["repository"].get("branch") == "main"
