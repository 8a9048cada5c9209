"""Consent and pseudonyms at the server (RecommendationsServicer.answer, what every RPC runs
after validation), over a real serving store."""

from reco.config import Settings
from reco.v1 import recommendations_pb2 as pb
from serving.servicer import RecommendationsServicer
from serving.store import CONSENT_STATES, RECOMMENDATIONS, Change
from tests.unit.conftest import rec_list


def test_a_user_without_consent_to_personalization_gets_the_anonymous_list(store):
    """Opt-in (the default): u1 has a stored list but never consented, u2 granted, u3 denied
    after granting; a lookup answers as consent allows (RecommendationsServicer.answer, what
    each RPC runs after validation)."""
    from reco.v1.recommendations_pb2 import ConsentState

    said = {"u2": True, "u3": False}
    store.apply([Change(RECOMMENDATIONS, "u2", rec_list("u2", ["x", "y"])),
                 Change(RECOMMENDATIONS, "u3", rec_list("u3", ["z"]))]
                + [Change(CONSENT_STATES, user, ConsentState(
                    user_id=user, personalization=value).SerializeToString())
                   for user, value in said.items()], {})
    servicer = RecommendationsServicer(store, Settings(policy="fixed:personal"))

    def lookup(user: str) -> list[tuple[str, str]]:
        request = pb.GetRecommendationsRequest(user_id=user, k=2)
        answer = servicer.answer(request, servicer.recommend, "personal")
        return [(i.item_id, i.reason) for i in answer.response.items]

    assert lookup("u1") == [("p", "consent"), ("a", "consent")]  # the global list
    assert [item for item, _ in lookup("u2")] == ["x", "y"]
    assert lookup("u3") == [("p", "consent"), ("a", "consent")]
    allowing = RecommendationsServicer(store, Settings(policy="fixed:personal",
                                                       consent_default="allow"))
    request = pb.GetRecommendationsRequest(user_id="u1", k=2)
    assert [i.item_id for i in allowing.answer(request, allowing.recommend,
                                               "personal").response.items] == ["a", "b"]


def test_lookups_go_by_the_users_pseudonym(store):
    """The job keys everything by pseudonym: the server hashes a request's user id before any
    lookup, and the impression it logs names the pseudonym."""
    from reco.pseudonyms import Pseudonyms

    ids = Pseudonyms(bytes(32))
    store.apply([Change(RECOMMENDATIONS, ids.of("carla"), rec_list("x", ["s", "t"]))], {})
    logged: list[str] = []

    class Log:
        def log(self, request, *_args, **_kwargs) -> None:
            logged.append(request.user_id)

    servicer = RecommendationsServicer(store, Settings(policy="fixed:personal",
                                                       consent_default="allow"),
                                       Log(), ids)  # type: ignore[arg-type]
    request = pb.GetRecommendationsRequest(user_id="carla", k=2)
    reply = servicer.answer(request, servicer.recommend, "personal").response
    assert [i.item_id for i in reply.items] == ["s", "t"] and not reply.cold_start
    assert logged == [ids.of("carla")] and request.user_id == "carla"  # hers, untouched
    # "u1" has a list under its raw id only: that is no user the job knows
    assert servicer.answer(pb.GetRecommendationsRequest(user_id="u1", k=2), servicer.recommend,
                           "personal").response.cold_start
