"""The SDK's online learning calls against a live server (the reference's names)."""

from __future__ import annotations

from typer.testing import CliRunner

from client.conftest import LiveServer, live_server  # noqa: F401
from conftest import ADMIN_KEY
from recostack.cli import _register, app

_register()


def test_sdk_online_learning(live_server: LiveServer) -> None:  # noqa: F811
    with live_server.client() as client:
        assert client.upload_offers("sdk-offers", "offer,name\na,A\nb,B\nc,C\n") == 3
        summary = client.online_learning_ecosystem_rewards_setup_feature_store(
            "recostack",
            "sdk-offers",
            "offer",
            {"device": ["phone", "desktop"]},
            "recostack",
            "sdk-fs",
        )
        assert summary["entries"] == 6
        config_id = client.create_online_learning(
            "sdk-bandit",
            "an SDK test",
            "sdk-fs",
            "recostack",
            "recostack",
            "sdk-options",
            "offer",
            contextual_variables_contextual_variable_one_name="device",
            randomisation_random_action=0,
        )
        assert client.get_online_learning(config_id).name == "sdk-bandit"
        assert (
            client.create_online_learning(
                "sdk-bandit",
                "again",
                "sdk-fs",
                "recostack",
                "recostack",
                "sdk-options",
                "offer",
                contextual_variables_contextual_variable_one_name="device",
                replace=True,
            )
            == config_id
        )
        arms = client.get_options_store(config_id, segment="phone")
        assert sorted(a.offer for a in arms) == ["a", "b", "c"]
        assert all(a.alpha == a.beta == 1.0 for a in arms)
        assert (
            client.set_online_learning_priors(
                config_id, [{"offer": "a", "segment": "phone", "alpha_zero": 3, "beta_zero": 2}]
            )
            == 1
        )
        client.warm_start_online_learning(
            config_id, [{"offer": "b", "segment": "phone", "take_up": True}]
        )
        by_offer = {a.offer: a for a in client.get_options_store(config_id, "phone")}
        assert (by_offer["a"].alpha, by_offer["a"].beta) == (3.0, 2.0)
        assert by_offer["b"].alpha == 1.0 + 0.75  # prior_success_reward 1 × discount 0.75
        assert [c.id for c in client.list_online_learning()].count(config_id) == 1
        shown = CliRunner().invoke(
            app,
            [
                "online-learning",
                "arms",
                config_id,
                "--url",
                live_server.url,
                "--api-key",
                ADMIN_KEY,
            ],
        )
        assert shown.exit_code == 0, shown.output
        assert "segment phone" in shown.output and "segment desktop" in shown.output
        # an answer of a deployment that learns online, typed; again within its duration
        client.create_project("sdk-online")
        client.create_deployment(
            "sdk-online",
            "sdk-nbo",
            model_id=live_server.model_id,
            multi_armed_bandit={"epsilon": 0, "duration": 60_000, "pulse_responder_id": config_id},
        ).wait_for_deployment(timeout=30)
        answer = client.recommend_deployment("sdk-nbo", user_id="u1", context={"device": "phone"})
        assert sorted(answer.item_ids) == ["a", "b", "c"] and not answer.cached
        assert answer.model_id == live_server.model_id
        wire = answer.to_dict()
        assert answer.online_learning is not None
        assert answer.online_learning.config_id == config_id
        assert answer.online_learning.segment == "phone"
        assert answer.online_learning.to_dict() == wire["onlineLearning"]
        for item, sent in zip(answer.items, wire["items"], strict=True):
            assert item.arm_reward == item.score == sent["armReward"]
            assert item.propensity is not None and 0 < item.propensity <= 1
            assert item.propensity == sent["propensity"]
            assert isinstance(item.explored, bool) and item.explored is sent["explored"]
            assert item.exploration_probability == sent["explorationProbability"]
        again = client.recommend_deployment("sdk-nbo", user_id="u1", context={"device": "phone"})
        assert again.cached and again.request_id == answer.request_id
        assert again.to_dict() == {**wire, "cached": True}
        client.delete_deployment("sdk-nbo")
        client.delete_online_learning(config_id)
        assert all(c.id != config_id for c in client.list_online_learning())
