"""Point-in-time engagement features of leads and the attribute encoder."""

import numpy as np
import pandas as pd
import pytest

from crmml.schema import SchemaError
from crmml.scoring import lead_event_features
from crmml.scoring._features import LeadEncoder


@pytest.fixture
def small():
    leads = pd.DataFrame({"lead_id": [1, 2, 3],
                          "score_time": pd.to_datetime(["2024-01-10", "2024-01-05", "2024-01-10"])})
    ev = pd.DataFrame({"lead_id": [1, 1, 1, 2, 2, 9],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-10",
                                                    "2024-01-04", "2024-01-06", "2024-01-01"]),
                       "event_type": ["web visit", "email", "email", "email", "email", "email"]})
    return leads, ev


def test_only_events_before_each_leads_score_time_are_read(small):
    leads, ev = small
    f = lead_event_features(leads, ev)
    # lead 1: the event at exactly score_time is excluded; lead 2: the event after its own time too
    assert f.loc[1, "events_total_count"] == 2 and f.loc[2, "events_total_count"] == 1
    assert f.loc[1, "events_web_visit_count"] == 1 and f.loc[1, "events_email_count"] == 1
    assert f.loc[1, "days_since_last_event"] == pytest.approx(1.0)
    assert f.loc[3, "events_total_count"] == 0 and np.isnan(f.loc[3, "days_since_last_event"])
    # events far in the future never change the features
    later = pd.concat([ev, pd.DataFrame({"lead_id": [1, 3], "timestamp": pd.to_datetime(["2030-01-01"] * 2),
                                         "event_type": ["email", "demo"]})])
    g = lead_event_features(leads, later, event_types=["email", "web visit"])
    pd.testing.assert_frame_equal(f, g)


def test_global_as_of_and_customer_id_key(small):
    leads, ev = small
    f = lead_event_features(leads.drop(columns="score_time"), ev.rename(columns={"lead_id": "customer_id"}),
                            as_of="2024-01-05")
    assert f["events_total_count"].tolist() == [1.0, 1.0, 0.0]
    assert f.loc[1, "events_7d_count"] == 1.0


def test_mapped_event_columns_and_empty_events(small):
    leads, ev = small
    f = lead_event_features(leads, ev.rename(columns={"event_type": "kind"}), columns={"kind": "event_type"})
    assert f["events_total_count"].sum() == 3
    e = lead_event_features(leads, ev.iloc[:0], event_types=["email"])
    assert e["events_email_count"].tolist() == [0.0, 0.0, 0.0]


def test_scoring_time_is_required_with_events(small):
    leads, ev = small
    with pytest.raises(ValueError, match="'as_of' parameter of lead_event_features is required"):
        lead_event_features(leads.drop(columns="score_time"), ev)
    with pytest.raises(SchemaError, match="events.event_type: required column is missing"):
        lead_event_features(leads, ev.drop(columns="event_type"))


def test_encoder_pools_rare_and_unseen_categories_and_imputes():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"job": rng.choice(["a", "b"], 200).astype(object), "n": rng.random(200)})
    X.loc[0, "job"] = "rare"
    X.loc[1, "n"] = np.nan
    enc = LeadEncoder().fit(X)
    assert "job=rare" not in enc.feature_names_ and "job=__other__" in enc.feature_names_
    assert "n__missing" in enc.feature_names_
    new = pd.DataFrame({"job": ["never_seen", None, "a"], "n": [np.nan, 0.5, 0.1]})
    Z = pd.DataFrame(enc.transform(new), columns=enc.feature_names_)
    assert Z["job=__other__"].tolist() == [1.0, 1.0, 0.0]
    assert Z.loc[0, "n"] == pytest.approx(enc.medians_["n"]) and Z.loc[0, "n__missing"] == 1.0
    assert Z.filter(like="job=").sum(axis=1).eq(1).all()


def test_events_without_a_type_are_counted_in_a_warning():
    # audit: a missing event_type ended in a raw TypeError from sorted() (lead_event_features, LeadScorer.fit)
    from crmml.exceptions import DroppedCustomersWarning
    from crmml.scoring import LeadScorer

    leads = pd.DataFrame({"lead_id": range(40), "size": np.arange(40) % 7, "converted": [0, 1] * 20})
    ev = pd.DataFrame({"lead_id": [0, 0, 1, 2, 3] * 8, "event_type": ["visit", None, "mail", "visit", None] * 8,
                       "timestamp": pd.Timestamp("2024-01-05")})
    with pytest.warns(DroppedCustomersWarning, match=r"lead events: 16 of 40 events have no event_type"):
        f = lead_event_features(leads, ev, as_of="2024-02-01")
    assert list(f.columns[:2]) == ["events_mail_count", "events_visit_count"]
    assert f.loc[0, "events_total_count"] == 8 and f.loc[3, "events_total_count"] == 0
    with pytest.warns(DroppedCustomersWarning, match=r"lead events: 16 of 40 events have no event_type") as caught:
        LeadScorer(min_leads=10, min_conversions=2).fit(leads, ev, as_of="2024-02-01")
    assert sum(w.category is DroppedCustomersWarning for w in caught) == 1


def test_events_of_other_types_and_other_leads_follow_the_documented_rule():
    leads = pd.DataFrame({"lead_id": [1, 2]})
    ev = pd.DataFrame({"lead_id": [1, 1, 2, 9], "event_type": ["visit", "webinar", "visit", "visit"],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-02", "2024-01-03"])})
    f = lead_event_features(leads, ev, as_of="2024-01-10", event_types=["visit"])
    assert list(f.index) == [1, 2] and "events_webinar_count" not in f.columns      # lead 9: ignored
    assert f["events_visit_count"].tolist() == [1.0, 1.0]
    assert f["events_total_count"].tolist() == [2.0, 1.0]                            # the webinar counts here
    assert f["days_since_last_event"].tolist() == [2.0, 8.0]
