"""The two-step key rotation, run as documented against serving instances.

Two issuer instances (A, B) serve one database, each with its own key store; a one-off job (J)
with a key store of its own stages the new key. The key file reaches A, then the key is
activated while B still lacks it, then the file reaches B. Imports and revocations keep working
through both instances at every step; an instance without the active key signs with the
previous one and says so in ``/readyz``; every credential, old and new, verifies against the DID
document and status lists the instances serve. Then the old key is retired: the credentials it
signed are revoked and re-issued with the new key.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faults_support import cli_env, run_cli
from flask.testing import FlaskClient

from issuer.services.awards import list_awards
from issuer.services.bootstrap import open_runtime
from issuer.services.demo import seed_demo
from issuer.services.issuers import get_issuer, rotate_key
from issuer.services.keylifecycle import activate_key, list_keys, retire_key
from issuer.services.reissue import reissue
from issuer.services.runtime import Runtime
from issuer.services.tokens import create_token
from issuer.settings import Settings
from issuer.web import create_app
from keys.resolve import Resolver
from verifier.fetchers import MappingFetcher
from verifier.report import VerificationReport, verify_credential

BASE_URL = "https://issuer.rotation.example"


def _settings(instance: Path, database_url: str) -> Settings:
    return Settings.from_env(
        {
            "SIJIL_ENV": "development",
            "SIJIL_INSTANCE_DIR": str(instance),
            "SIJIL_DATABASE_URL": database_url,
            "SIJIL_BASE_URL": BASE_URL,
            "SIJIL_KEY_PASSPHRASE": "test-passphrase-not-secret",
            "SIJIL_SECRET_KEY": "test-secret-key-not-secret",
            "SIJIL_RATE_LIMITS_ENABLED": "0",
            "SIJIL_NOTIFY_LEARNERS": "0",
        }
    )


@dataclass
class Instance:
    """One serving issuer instance: its runtime (own key store) and a test client."""

    rt: Runtime
    client: FlaskClient
    admin: dict[str, str]
    issue: dict[str, str]

    def import_learner(self, learner: str) -> str:
        """Import progress that makes a COC due for a new learner; the new award's id."""
        body = (
            "learner_id,learner_email,learner_name,micro_credential,event,item\n"
            f"{learner},{learner.lower()}@x.my,Pelajar {learner},ESG201,material_completed,"
            "ESG201-M1\n"
            f"{learner},{learner.lower()}@x.my,Pelajar {learner},ESG201,material_completed,"
            "ESG201-M2\n"
        ).encode()
        answer = self.client.post(
            "/progress/import", data=body, headers={**self.issue, "Content-Type": "text/csv"}
        )
        assert answer.status_code == 200, answer.get_json()
        (award,) = list_awards(self.rt, learner=learner)
        return award.id

    def revoke(self, award_id: str) -> None:
        answer = self.client.post(
            f"/awards/{award_id}/revoke", headers=self.admin, json={"reason": "test revocation"}
        )
        assert answer.status_code == 200, answer.get_json()

    def readyz(self) -> tuple[int, dict[str, Any]]:
        answer = self.client.get("/readyz")
        return answer.status_code, answer.get_json()

    def signer(self, award_id: str) -> str:
        credential = json.loads(self.client.get(f"/credentials/{award_id}").get_data())
        return str(credential["proof"]["verificationMethod"])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Instance, Instance, Runtime]]:
    """Instances A and B (initial key copied to both) and the one-off job's runtime J."""
    database_url = f"sqlite:///{tmp_path}/shared.db"
    runtimes: list[Runtime] = []
    try:
        first = open_runtime(_settings(tmp_path / "a", database_url), status_lists=True)
        runtimes.append(first)
        seed_demo(first)
        shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")
        second = open_runtime(_settings(tmp_path / "b", database_url), status_lists=True)
        job = open_runtime(_settings(tmp_path / "job", database_url), status_lists=True)
        runtimes += [second, job]
        instances = []
        for rt in (first, second):
            admin = create_token(rt, ["admin"], actor="test")[1]
            issue = create_token(rt, ["issue"], actor="test")[1]
            instances.append(
                Instance(
                    rt,
                    create_app(runtime=rt).test_client(),
                    {"Authorization": f"Bearer {admin}"},
                    {"Authorization": f"Bearer {issue}"},
                )
            )
        yield instances[0], instances[1], job
    finally:
        for rt in runtimes:
            rt.close()


def _copy_key(source: Runtime, target: Runtime, vm: str) -> None:
    """Publish a key file the way an operator does: copy it into the other key store."""
    target.keystore.directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source.keystore.path_of(vm), target.keystore.path_of(vm))


def _report(instance: Instance, award_id: str) -> VerificationReport:
    """Verify a served credential against the served DID document and status lists."""
    client = instance.client
    credential = json.loads(client.get(f"/credentials/{award_id}").get_data())
    resolver = Resolver()
    resolver.add_document(client.get("/.well-known/did.json").get_json())
    lists = {
        entry["statusListCredential"]: json.loads(
            client.get(entry["statusListCredential"].removeprefix(BASE_URL)).get_data()
        )
        for entry in (
            credential["credentialStatus"]
            if isinstance(credential["credentialStatus"], list)
            else [credential["credentialStatus"]]
        )
    }
    return verify_credential(credential, resolver=resolver, fetcher=MappingFetcher(lists))


def _genuine(report: VerificationReport) -> bool:
    """Signature, binding, validity and status hold (issuer trust is the verifier's policy)."""
    checks = report.checks
    return checks["proof"].status == "passed" and all(
        c.status in ("passed", "skipped") for name, c in checks.items() if name != "issuer_trust"
    )


def test_documented_rotation_keeps_imports_and_revocations_working(
    cluster: tuple[Instance, Instance, Runtime],
) -> None:
    a, b, job = cluster
    old_vm = get_issuer(a.rt).verification_method
    before = [a.import_learner("R0001"), b.import_learner("R0002")]

    # 1. the one-off job stages the new key: published, nobody signs with it yet
    staged = rotate_key(job, actor="job")
    new_vm = staged.verification_methods[1]
    assert staged.verification_method == old_vm
    served = a.client.get("/.well-known/did.json").get_json()
    assert [m["id"] for m in served["verificationMethod"]] == [old_vm, new_vm]
    status, ready = b.readyz()
    assert status == 200
    assert ready["status"] == "ready"
    assert any(new_vm in w for w in ready["warnings"])  # "copy its file here"
    staged_phase = [a.import_learner("R0003"), b.import_learner("R0004")]
    assert {a.signer(i) for i in before + staged_phase} == {old_vm}

    # 2. the key file reaches A; activated before it reaches B (the outage of old)
    _copy_key(job, a.rt, new_vm)
    activate_key(job, actor="job")
    during = [a.import_learner("R0005"), b.import_learner("R0006")]
    assert [a.signer(i) for i in during] == [new_vm, old_vm]
    b.revoke(before[0])  # revocations re-sign the status list on B: with the old key
    status, ready = b.readyz()
    assert status == 200
    assert ready["status"] == "degraded", ready
    assert "not in this instance's key store" in json.dumps(ready["checks"]["keystore"])
    assert a.readyz()[1]["status"] == "ready"

    # 3. the file reaches B: B signs with the new key, no restart needed
    _copy_key(job, b.rt, new_vm)
    after = [a.import_learner("R0007"), b.import_learner("R0008")]
    assert {a.signer(i) for i in after} == {new_vm}
    a.revoke(staged_phase[1])
    assert b.readyz()[1]["status"] == "ready"

    revoked = {before[0], staged_phase[1]}
    for award_id in before + staged_phase + during + after:
        report = _report(a, award_id)
        if award_id in revoked:
            assert report.checks["status"].status == "failed", award_id
            assert report.checks["proof"].status == "passed", award_id
        else:
            assert _genuine(report), (award_id, report.to_dict()["errors"])


def test_an_instance_never_signs_with_a_staged_key_it_holds(
    cluster: tuple[Instance, Instance, Runtime],
) -> None:
    a, _, _ = cluster
    old_vm = get_issuer(a.rt).verification_method
    staged = rotate_key(a.rt, actor="t")
    assert {k.state for k in list_keys(a.rt)} == {"active", "staged"}
    assert a.signer(a.import_learner("R0101")) == old_vm
    assert staged.verification_methods[1] != old_vm


def test_retire_withdraws_the_key_and_revokes_what_it_signed_for_reissue(
    cluster: tuple[Instance, Instance, Runtime],
) -> None:
    a, b, _ = cluster
    old_vm = get_issuer(a.rt).verification_method
    signed_old = a.import_learner("R0201")
    new_vm = rotate_key(a.rt, actor="t").verification_methods[1]
    _copy_key(a.rt, b.rt, new_vm)
    withdrawn = a.client.post("/issuers/default/keys/retire", headers=a.admin, json={"key": new_vm})
    assert withdrawn.status_code == 200  # a staged key may be withdrawn
    assert new_vm not in json.dumps(a.client.get("/.well-known/did.json").get_json())
    newer = rotate_key(a.rt, actor="t", activate=True).verification_method
    _copy_key(a.rt, b.rt, newer)
    active = a.client.post("/issuers/default/keys/retire", headers=a.admin, json={"key": newer})
    assert active.status_code == 409
    assert active.get_json()["code"] == "KEY_ACTIVE"
    reactivate = a.client.post(
        "/issuers/default/keys/activate", headers=a.admin, json={"key": new_vm}
    )
    assert reactivate.get_json()["code"] == "KEY_RETIRED"

    outcome = retire_key(a.rt, None, old_vm, actor="t", revoke_signed=True)
    assert signed_old in outcome.signed
    assert set(outcome.reissue) == set(outcome.signed)  # every one revoked here
    doc = a.client.get("/.well-known/did.json").get_json()
    assert [m["id"] for m in doc["verificationMethod"]] == [newer]
    assert {k.verification_method: k.state for k in list_keys(a.rt)}[old_vm] == "retired"
    replacement = reissue(a.rt, signed_old, reason="re-sign after key retirement", actor="t")
    assert a.signer(replacement.award.id) == newer
    assert _genuine(_report(a, replacement.award.id))
    assert _report(a, signed_old).checks["proof"].status != "passed"
    again = retire_key(a.rt, None, old_vm, actor="t")
    assert not again.changed


def test_cli_rotate_activate_list_retire(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "instance")
    assert run_cli(env, "init").returncode == 0
    rotated = run_cli(env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    first = rotated.stdout.splitlines()[0]
    assert first.startswith("issuer default: staged did:web:")
    new_vm = first.rsplit(" ", 1)[1]
    key_file = rotated.stdout.split("key file: ", 1)[1].splitlines()[0]
    assert Path(key_file).is_file()
    listed = dict(
        (line.split("\t")[0], line.split("\t")[2])
        for line in run_cli(env, "keys", "list").stdout.splitlines()
    )
    assert listed[new_vm] == "staged"
    (old_vm,) = [vm for vm, state in listed.items() if state == "active"]
    refused = run_cli(env, "keys", "retire", old_vm)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("KEY_ACTIVE: ")
    assert "Traceback" not in refused.stderr
    activated = run_cli(env, "keys", "activate")
    assert activated.stdout.strip() == f"issuer default: signing with {new_vm}"
    retired = run_cli(env, "keys", "retire", old_vm.split("#", 1)[1], "--revoke-signed")
    assert retired.returncode == 0, retired.stderr
    assert f"retired {old_vm}" in retired.stdout
    assert "0 award(s) signed with it" in retired.stdout
    states = run_cli(env, "keys", "list").stdout
    assert f"{old_vm}\tEd25519\tretired" in states
