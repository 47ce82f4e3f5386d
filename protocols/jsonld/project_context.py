"""The @context of every document Maillage publishes: standard contexts plus our inline terms.

Our own terms (vocabulary.md section 5.1) are written INLINE in every document, never as a
URL: strict peers such as Fedify reject a document naming a remote context they do not
preload, and our namespace IRI is not served anywhere yet.
"""

from __future__ import annotations

from typing import Any

ACTIVITYSTREAMS_CONTEXT = "https://www.w3.org/ns/activitystreams"
"""Mastodon only accepts documents whose @context holds exactly this string."""

STANDARD_CONTEXTS: tuple[str, ...] = (
    # AS2 core vocabulary; first, by custom.
    ACTIVITYSTREAMS_CONTEXT,
    # publicKey / owner / publicKeyPem: the RSA key Mastodon verifies signatures with.
    "https://w3id.org/security/v1",
    # proof / DataIntegrityProof: FEP-8b32 proofs on bundled and relayed objects.
    "https://w3id.org/security/data-integrity/v1",
    # assertionMethod (FEP-521a). multikey/v1 only scopes terms inside Multikey nodes, and
    # cid/v1, the newer home of assertionMethod, is not preloaded by Fedify 1.5.
    "https://www.w3.org/ns/did/v1",
    # Multikey with controller / publicKeyMultibase inside it: our Ed25519 key.
    "https://w3id.org/security/multikey/v1",
)
"""Remote contexts our documents name: all bundled here and preloaded by Fedify, in the
order Fedify itself writes them. None is redefined by MAILLAGE_CONTEXT (several are
``@protected``, and pyld rejects a protected term redefinition)."""

MAILLAGE_CONTEXT: dict[str, Any] = {
    # Prefixes.
    "tc": "https://w3id.org/territoires/ns#",
    "vf": "https://w3id.org/valueflows/ont/vf#",
    "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
    "sc": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "toot": "http://joinmastodon.org/ns#",
    # schema.org: profile fields, addresses, places, observations; Mastodon and AS2 flags.
    "additionalType": {"@id": "sc:additionalType", "@type": "@id"},
    "sameAs": {"@id": "sc:sameAs", "@type": "@id"},
    "PropertyValue": "sc:PropertyValue",
    "propertyID": "sc:propertyID",
    "value": "sc:value",
    "PostalAddress": "sc:PostalAddress",
    "address": "sc:address",
    "streetAddress": "sc:streetAddress",
    "postalCode": "sc:postalCode",
    "addressLocality": "sc:addressLocality",
    "addressRegion": "sc:addressRegion",
    "addressCountry": "sc:addressCountry",
    "containedInPlace": {"@id": "sc:containedInPlace", "@type": "@id"},
    "Observation": "sc:Observation",
    "StatisticalVariable": "sc:StatisticalVariable",
    "QuantitativeValue": "sc:QuantitativeValue",
    "observationAbout": {"@id": "sc:observationAbout", "@type": "@id"},
    "variableMeasured": {"@id": "sc:variableMeasured", "@type": "@id"},
    "observationDate": "sc:observationDate",
    "observationPeriod": "sc:observationPeriod",
    "measurementMethod": "sc:measurementMethod",
    "marginOfError": "sc:marginOfError",
    "unitCode": "sc:unitCode",
    "unitText": "sc:unitText",
    "discoverable": "toot:discoverable",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    # Provenance (replication lineage) and geometry.
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    "geometry": {"@id": "vf:hasDetailedGeometry"},
    "asGeoJSON": "geo:asGeoJSON",
    "asWKT": "geo:asWKT",
    # ValueFlows (FEP-0837) resource offers and requests, with OM2 quantities.
    "Proposal": "vf:Proposal",
    "Intent": "vf:Intent",
    "Agreement": "vf:Agreement",
    "Commitment": "vf:Commitment",
    "EconomicEvent": "vf:EconomicEvent",
    "EconomicResource": "vf:EconomicResource",
    "purpose": "vf:purpose",
    "publishes": "vf:publishes",
    "reciprocal": "vf:reciprocal",
    "unitBased": "vf:unitBased",
    "action": "vf:action",
    "provider": {"@id": "vf:provider", "@type": "@id"},
    "receiver": {"@id": "vf:receiver", "@type": "@id"},
    "resourceConformsTo": {"@id": "vf:resourceConformsTo", "@type": "@id"},
    "resourceClassifiedAs": {"@id": "vf:resourceClassifiedAs", "@type": "@id"},
    "resourceInventoriedAs": {"@id": "vf:resourceInventoriedAs", "@type": "@id"},
    "resourceQuantity": "vf:resourceQuantity",
    "effortQuantity": "vf:effortQuantity",
    "availableQuantity": "vf:availableQuantity",
    "minimumQuantity": "vf:minimumQuantity",
    "hasBeginning": "vf:hasBeginning",
    "hasEnd": "vf:hasEnd",
    "eligibleLocation": {"@id": "vf:eligibleLocation", "@type": "@id"},
    "proposedTo": {"@id": "vf:proposedTo", "@type": "@id"},
    "stipulates": "vf:stipulates",
    "stipulatesReciprocal": "vf:stipulatesReciprocal",
    "satisfies": {"@id": "vf:satisfies", "@type": "@id"},
    "fulfills": {"@id": "vf:fulfills", "@type": "@id"},
    "toLocation": {"@id": "vf:toLocation", "@type": "@id"},
    "currentLocation": {"@id": "vf:currentLocation", "@type": "@id"},
    "primaryLocation": {"@id": "vf:primaryLocation", "@type": "@id"},
    "hasUnit": "om2:hasUnit",
    "hasNumericalValue": "om2:hasNumericalValue",
    # Maillage terms (tc:).
    "Member": "tc:Member",
    "role": "tc:role",
    "lifecycleState": "tc:lifecycleState",
    # The title and generated status line of every object, for Maillage peers: Notes and
    # Questions carry no `name` nor `summary`, which other servers show as a content warning.
    "headline": "sc:headline",
    "statusLine": "tc:statusLine",
    "stateHistory": {"@id": "tc:stateHistory", "@type": "@id"},
    "territoryLevel": "tc:territoryLevel",
    "circles": {"@id": "tc:circles", "@type": "@id"},
    "proposals": {"@id": "tc:proposals", "@type": "@id"},
    "experiments": {"@id": "tc:experiments", "@type": "@id"},
    "offers": {"@id": "tc:offers", "@type": "@id"},
    "places": {"@id": "tc:places", "@type": "@id"},
    "indicatorCatalog": {"@id": "tc:indicatorCatalog", "@type": "@id"},
    "members": {"@id": "tc:members", "@type": "@id"},
    "circleKind": "tc:circleKind",
    "mandate": "tc:mandate",
    "parentTerritory": {"@id": "tc:parentTerritory", "@type": "@id"},
    "proposalKind": "tc:proposalKind",
    "assignedTo": {"@id": "tc:assignedTo", "@type": "@id"},
    "answer": "tc:answer",
    "mergedInto": {"@id": "tc:mergedInto", "@type": "@id"},
    "amends": {"@id": "tc:amends", "@type": "@id"},
    "supportCount": "tc:supportCount",
    "supportThreshold": "tc:supportThreshold",
    "eligibleCount": "tc:eligibleCount",
    "externalAppreciationCount": "tc:externalAppreciationCount",
    "resourceNeeds": {"@id": "tc:resourceNeeds", "@type": "@id"},
    "leadsTo": {"@id": "tc:leadsTo", "@type": "@id"},
    "decides": {"@id": "tc:decides", "@type": "@id"},
    "decisionMethod": "tc:decisionMethod",
    "binding": "tc:binding",
    "eligibility": "tc:eligibility",
    "quorum": "tc:quorum",
    "externalTally": "tc:externalTally",
    "hypothesis": "tc:hypothesis",
    "originProposals": {"@id": "tc:originProposals", "@type": "@id"},
    "progress": "tc:progress",
    "milestones": {"@id": "tc:milestones", "@type": "@id"},
    "reviewOn": "tc:reviewOn",
    "indicators": "tc:indicators",
    "IndicatorTarget": "tc:IndicatorTarget",
    "indicator": {"@id": "tc:indicator", "@type": "@id"},
    "baseline": "tc:baseline",
    "targetValue": "tc:targetValue",
    "direction": "tc:direction",
    "latest": "tc:latest",
    "observations": {"@id": "tc:observations", "@type": "@id"},
    "evaluation": {"@id": "tc:evaluation", "@type": "@id"},
    "outcome": "tc:outcome",
    "recommendation": "tc:recommendation",
    "lessons": "tc:lessons",
    "evaluates": {"@id": "tc:evaluates", "@type": "@id"},
    "evaluationMethod": "tc:evaluationMethod",
    "adaptations": "tc:adaptations",
    "replications": {"@id": "tc:replications", "@type": "@id"},
    "lineageRoot": {"@id": "tc:lineageRoot", "@type": "@id"},
    "placeKind": "tc:placeKind",
    "actorKind": "tc:actorKind",
    "managedBy": {"@id": "tc:managedBy", "@type": "@id"},
    "flowKind": "tc:flowKind",
    "quantity": "tc:quantity",
    "derivedFromEvents": {"@id": "tc:derivedFromEvents", "@type": "@id"},
    "theme": "tc:theme",
    "polarity": "tc:polarity",
    "covers": {"@id": "tc:covers", "@type": "@id"},
    # Beyond section 5.1: the territory actor's collections of map flows and map actors.
    "flows": {"@id": "tc:flows", "@type": "@id"},
    "mapActors": {"@id": "tc:mapActors", "@type": "@id"},
}
"""The project's term definitions: the inline object of vocabulary.md section 5.1, plus the
collections of flows and map actors (section 5.10-5.11 objects need a home on the actor)."""


def document_context() -> list[Any]:
    """Return the ``@context`` value for a document we publish, as a fresh list.

    The standard context URLs followed by MAILLAGE_CONTEXT inline. A new copy each call,
    so that a caller adding a term to one document cannot change every later document.
    """
    inline = {
        term: dict(definition) if isinstance(definition, dict) else definition
        for term, definition in MAILLAGE_CONTEXT.items()
    }
    return [*STANDARD_CONTEXTS, inline]
