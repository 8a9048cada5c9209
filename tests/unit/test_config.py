import pytest

from reco.config import Settings, describe, load_settings, settings_env


def test_defaults_match_the_contract():
    s = load_settings(env={}, config_path=None)
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.grpc_addr == "127.0.0.1:50051"
    assert s.topic_recommendations == "recommendations"


def test_environment_overrides_the_file_which_overrides_defaults(tmp_path):
    config = tmp_path / "reco.toml"
    config.write_text('job_parallelism = 3\n[kafka]\nkafka_bootstrap = "file:1"\n')
    s = load_settings(env={"KAFKA_BOOTSTRAP": "env:2"}, config_path=config)
    assert (s.kafka_bootstrap, s.job_parallelism) == ("env:2", 3)
    s = load_settings(env={"RECO_CONFIG": str(config)})
    assert (s.kafka_bootstrap, s.job_parallelism) == ("file:1", 3)


def test_unknown_settings_and_bad_values_are_named(tmp_path):
    config = tmp_path / "reco.toml"
    config.write_text("job_paralelism = 3\n")
    with pytest.raises(ValueError, match="unknown settings \\['job_paralelism'\\]"):
        load_settings(env={}, config_path=config)
    with pytest.raises(ValueError, match="setting job_parallelism: cannot read 'many' as int"):
        load_settings(env={"RECO_JOB_PARALLELISM": "many"}, config_path=None)


@pytest.mark.parametrize("env, says", [
    ({"RECO_JOB_PARALLELISM": "0"}, r"job_parallelism \(RECO_JOB_PARALLELISM\) is 0: it must be at "
                                    "least 1"),
    ({"RECO_DIVERSITY": "3"}, "between 0 and 1"),
    ({"RECO_KAFKA_PORT": "70000"}, "between 1 and 65535"),
    ({"RECO_SESSION_GAP_MS": "-1"}, "at least 0"),
    ({"RECO_PRIOR_WEIGHT": "nan"}, "at least 0"),
    ({"RECO_REWARD_PURCHASE": "inf"}, "use a finite number"),
    ({"RECO_FEATURE_ENGINE": "ture"}, "cannot read 'ture' as bool"),
])
def test_out_of_range_settings_are_refused_naming_the_variable(env, says):
    with pytest.raises(ValueError, match=says):
        load_settings(env=env, config_path=None)


def test_settings_that_may_be_negative_or_zero_are_accepted():
    s = load_settings(env={"RECO_REWARD_SKIP": "-3", "RECO_PROFILE_MIN_INTERVAL_MS": "0",
                           "RECO_RESTART_ATTEMPTS": "0", "RECO_FEATURE_ENGINE": "off"},
                      config_path=None)
    assert (s.reward_skip, s.profile_min_interval_ms, s.feature_engine) == (-3.0, 0, False)


def test_settings_env_reproduces_the_settings():
    s = Settings(job_parallelism=7, grpc_addr="127.0.0.1:1")
    assert load_settings(env=settings_env(s), config_path=None) == s


def test_every_setting_is_described():
    assert all(doc for _, _, _, doc in describe(Settings()))


def test_raw_topics_keep_records_for_the_retention_and_compacted_ones_until_a_tombstone():
    from reco.topics import topic_specs

    settings = Settings(raw_retention_ms=7 * 86_400_000)
    specs = topic_specs(settings)
    raw = [settings.topic_impressions, settings.topic_dlq, settings.topic_filtered,
           f"{settings.event_topic_prefix}purchase"]
    assert all(specs[t]["retention.ms"] == str(7 * 86_400_000) for t in raw)
    assert "retention.ms" not in specs[settings.topic_user_profiles]
    assert specs[settings.topic_user_profiles]["cleanup.policy"] == "compact"
