"""The pgvault policy pack: ``pulumi preview --policy-pack infra/policypack``.

Only this entry point builds the ``PolicyPack`` (its constructor starts a
gRPC server); the policies themselves live in ``infra.policies``.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from infra.policies import POLICIES

PolicyPack(name="pgvault", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
