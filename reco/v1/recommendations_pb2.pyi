from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Filters(_message.Message):
    __slots__ = ("include_categories", "exclude_categories", "include_brands", "exclude_brands", "include_labels", "exclude_labels", "min_price", "max_price", "include_out_of_stock", "include_bought", "exclude_viewed_minutes", "max_per_category", "max_per_brand", "promotion", "pinned_item_ids")
    INCLUDE_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_BRANDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_BRANDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LABELS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_LABELS_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_OUT_OF_STOCK_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_BOUGHT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_VIEWED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MAX_PER_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MAX_PER_BRAND_FIELD_NUMBER: _ClassVar[int]
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    PINNED_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    include_categories: _containers.RepeatedScalarFieldContainer[str]
    exclude_categories: _containers.RepeatedScalarFieldContainer[str]
    include_brands: _containers.RepeatedScalarFieldContainer[str]
    exclude_brands: _containers.RepeatedScalarFieldContainer[str]
    include_labels: _containers.RepeatedScalarFieldContainer[str]
    exclude_labels: _containers.RepeatedScalarFieldContainer[str]
    min_price: float
    max_price: float
    include_out_of_stock: bool
    include_bought: bool
    exclude_viewed_minutes: int
    max_per_category: int
    max_per_brand: int
    promotion: Promotion
    pinned_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, include_categories: _Optional[_Iterable[str]] = ..., exclude_categories: _Optional[_Iterable[str]] = ..., include_brands: _Optional[_Iterable[str]] = ..., exclude_brands: _Optional[_Iterable[str]] = ..., include_labels: _Optional[_Iterable[str]] = ..., exclude_labels: _Optional[_Iterable[str]] = ..., min_price: _Optional[float] = ..., max_price: _Optional[float] = ..., include_out_of_stock: bool = ..., include_bought: bool = ..., exclude_viewed_minutes: _Optional[int] = ..., max_per_category: _Optional[int] = ..., max_per_brand: _Optional[int] = ..., promotion: _Optional[_Union[Promotion, _Mapping]] = ..., pinned_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Promotion(_message.Message):
    __slots__ = ("label", "min_items")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MIN_ITEMS_FIELD_NUMBER: _ClassVar[int]
    label: str
    min_items: int
    def __init__(self, label: _Optional[str] = ..., min_items: _Optional[int] = ...) -> None: ...

class Context(_message.Message):
    __slots__ = ("device", "country", "ts", "region", "timezone", "user_agent", "extra")
    class ExtraEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    device: str
    country: str
    ts: int
    region: str
    timezone: str
    user_agent: str
    extra: _containers.ScalarMap[str, str]
    def __init__(self, device: _Optional[str] = ..., country: _Optional[str] = ..., ts: _Optional[int] = ..., region: _Optional[str] = ..., timezone: _Optional[str] = ..., user_agent: _Optional[str] = ..., extra: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetRecommendationsRequest(_message.Message):
    __slots__ = ("user_id", "k", "context", "exclude_item_ids", "filters")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    k: int
    context: Context
    exclude_item_ids: _containers.RepeatedScalarFieldContainer[str]
    filters: Filters
    def __init__(self, user_id: _Optional[str] = ..., k: _Optional[int] = ..., context: _Optional[_Union[Context, _Mapping]] = ..., exclude_item_ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[Filters, _Mapping]] = ...) -> None: ...

class GetSimilarItemsRequest(_message.Message):
    __slots__ = ("item_id", "k", "user_id", "context", "exclude_item_ids", "filters")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    k: int
    user_id: str
    context: Context
    exclude_item_ids: _containers.RepeatedScalarFieldContainer[str]
    filters: Filters
    def __init__(self, item_id: _Optional[str] = ..., k: _Optional[int] = ..., user_id: _Optional[str] = ..., context: _Optional[_Union[Context, _Mapping]] = ..., exclude_item_ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[Filters, _Mapping]] = ...) -> None: ...

class GetComplementaryItemsRequest(_message.Message):
    __slots__ = ("item_ids", "k", "user_id", "context", "exclude_item_ids", "filters")
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    k: int
    user_id: str
    context: Context
    exclude_item_ids: _containers.RepeatedScalarFieldContainer[str]
    filters: Filters
    def __init__(self, item_ids: _Optional[_Iterable[str]] = ..., k: _Optional[int] = ..., user_id: _Optional[str] = ..., context: _Optional[_Union[Context, _Mapping]] = ..., exclude_item_ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[Filters, _Mapping]] = ...) -> None: ...

class GetPopularItemsRequest(_message.Message):
    __slots__ = ("category", "by", "k", "user_id", "context", "exclude_item_ids", "filters")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    category: str
    by: str
    k: int
    user_id: str
    context: Context
    exclude_item_ids: _containers.RepeatedScalarFieldContainer[str]
    filters: Filters
    def __init__(self, category: _Optional[str] = ..., by: _Optional[str] = ..., k: _Optional[int] = ..., user_id: _Optional[str] = ..., context: _Optional[_Union[Context, _Mapping]] = ..., exclude_item_ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[Filters, _Mapping]] = ...) -> None: ...

class RecommendedItem(_message.Message):
    __slots__ = ("item_id", "score", "reason", "source", "propensity", "category")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PROPENSITY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    reason: str
    source: str
    propensity: float
    category: str
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ..., source: _Optional[str] = ..., propensity: _Optional[float] = ..., category: _Optional[str] = ...) -> None: ...

class GetRecommendationsResponse(_message.Message):
    __slots__ = ("request_id", "items", "model_version", "segment", "updated_at_ms", "cold_start", "policy", "arm", "policy_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COLD_START_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    ARM_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    model_version: str
    segment: str
    updated_at_ms: int
    cold_start: bool
    policy: str
    arm: str
    policy_version: str
    def __init__(self, request_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., model_version: _Optional[str] = ..., segment: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., cold_start: bool = ..., policy: _Optional[str] = ..., arm: _Optional[str] = ..., policy_version: _Optional[str] = ...) -> None: ...

class RecommendationList(_message.Message):
    __slots__ = ("user_id", "items", "model_version", "segment", "updated_at_ms", "last_event_id", "last_event_ts", "features", "excluded_item_ids")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_TS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    model_version: str
    segment: str
    updated_at_ms: int
    last_event_id: str
    last_event_ts: int
    features: _containers.ScalarMap[str, float]
    excluded_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., model_version: _Optional[str] = ..., segment: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., last_event_id: _Optional[str] = ..., last_event_ts: _Optional[int] = ..., features: _Optional[_Mapping[str, float]] = ..., excluded_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ArmStatistics(_message.Message):
    __slots__ = ("arm", "xtx", "xty", "weight", "rewards", "reward_sum", "reward_square_sum")
    ARM_FIELD_NUMBER: _ClassVar[int]
    XTX_FIELD_NUMBER: _ClassVar[int]
    XTY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    REWARD_SUM_FIELD_NUMBER: _ClassVar[int]
    REWARD_SQUARE_SUM_FIELD_NUMBER: _ClassVar[int]
    arm: str
    xtx: _containers.RepeatedScalarFieldContainer[float]
    xty: _containers.RepeatedScalarFieldContainer[float]
    weight: float
    rewards: int
    reward_sum: float
    reward_square_sum: float
    def __init__(self, arm: _Optional[str] = ..., xtx: _Optional[_Iterable[float]] = ..., xty: _Optional[_Iterable[float]] = ..., weight: _Optional[float] = ..., rewards: _Optional[int] = ..., reward_sum: _Optional[float] = ..., reward_square_sum: _Optional[float] = ...) -> None: ...

class PolicyParameters(_message.Message):
    __slots__ = ("shard", "features", "arms", "rewards", "updated_at_ms", "as_of_ms", "half_life_ms", "format")
    SHARD_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_MS_FIELD_NUMBER: _ClassVar[int]
    HALF_LIFE_MS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    shard: str
    features: _containers.RepeatedScalarFieldContainer[str]
    arms: _containers.RepeatedCompositeFieldContainer[ArmStatistics]
    rewards: int
    updated_at_ms: int
    as_of_ms: int
    half_life_ms: int
    format: int
    def __init__(self, shard: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., arms: _Optional[_Iterable[_Union[ArmStatistics, _Mapping]]] = ..., rewards: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., as_of_ms: _Optional[int] = ..., half_life_ms: _Optional[int] = ..., format: _Optional[int] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("id", "size", "centroid")
    class CentroidEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CENTROID_FIELD_NUMBER: _ClassVar[int]
    id: int
    size: int
    centroid: _containers.ScalarMap[str, float]
    def __init__(self, id: _Optional[int] = ..., size: _Optional[int] = ..., centroid: _Optional[_Mapping[str, float]] = ...) -> None: ...

class SegmentModelSummary(_message.Message):
    __slots__ = ("instance", "segments", "updated_at_ms")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    instance: str
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    updated_at_ms: int
    def __init__(self, instance: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class GetUserProfileRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class CategoryCount(_message.Message):
    __slots__ = ("category", "count")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    category: str
    count: float
    def __init__(self, category: _Optional[str] = ..., count: _Optional[float] = ...) -> None: ...

class WindowFeatures(_message.Message):
    __slots__ = ("window", "event_counts", "category_counts", "dwell_ms_sum", "scroll_depth_mean")
    class EventCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class CategoryCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_COUNTS_FIELD_NUMBER: _ClassVar[int]
    DWELL_MS_SUM_FIELD_NUMBER: _ClassVar[int]
    SCROLL_DEPTH_MEAN_FIELD_NUMBER: _ClassVar[int]
    window: str
    event_counts: _containers.ScalarMap[str, float]
    category_counts: _containers.ScalarMap[str, float]
    dwell_ms_sum: float
    scroll_depth_mean: float
    def __init__(self, window: _Optional[str] = ..., event_counts: _Optional[_Mapping[str, float]] = ..., category_counts: _Optional[_Mapping[str, float]] = ..., dwell_ms_sum: _Optional[float] = ..., scroll_depth_mean: _Optional[float] = ...) -> None: ...

class RfmFeatures(_message.Message):
    __slots__ = ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")
    RECENCY_DAYS_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MONETARY_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    F_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    recency_days: float
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    segment: str
    def __init__(self, recency_days: _Optional[float] = ..., frequency: _Optional[int] = ..., monetary: _Optional[float] = ..., r: _Optional[int] = ..., f: _Optional[int] = ..., m: _Optional[int] = ..., segment: _Optional[str] = ...) -> None: ...

class SessionFeatures(_message.Message):
    __slots__ = ("count", "current_events", "current_length_ms", "mean_length_ms", "mean_depth", "incomplete", "session_length_zscore", "session_length_minmax")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_LENGTH_MS_FIELD_NUMBER: _ClassVar[int]
    MEAN_LENGTH_MS_FIELD_NUMBER: _ClassVar[int]
    MEAN_DEPTH_FIELD_NUMBER: _ClassVar[int]
    INCOMPLETE_FIELD_NUMBER: _ClassVar[int]
    SESSION_LENGTH_ZSCORE_FIELD_NUMBER: _ClassVar[int]
    SESSION_LENGTH_MINMAX_FIELD_NUMBER: _ClassVar[int]
    count: int
    current_events: int
    current_length_ms: int
    mean_length_ms: float
    mean_depth: float
    incomplete: int
    session_length_zscore: float
    session_length_minmax: float
    def __init__(self, count: _Optional[int] = ..., current_events: _Optional[int] = ..., current_length_ms: _Optional[int] = ..., mean_length_ms: _Optional[float] = ..., mean_depth: _Optional[float] = ..., incomplete: _Optional[int] = ..., session_length_zscore: _Optional[float] = ..., session_length_minmax: _Optional[float] = ...) -> None: ...

class DwellFeatures(_message.Message):
    __slots__ = ("last_ms", "imputed", "zscore", "minmax", "user_mean_ms", "last_scroll_depth", "scroll_imputed")
    LAST_MS_FIELD_NUMBER: _ClassVar[int]
    IMPUTED_FIELD_NUMBER: _ClassVar[int]
    ZSCORE_FIELD_NUMBER: _ClassVar[int]
    MINMAX_FIELD_NUMBER: _ClassVar[int]
    USER_MEAN_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_SCROLL_DEPTH_FIELD_NUMBER: _ClassVar[int]
    SCROLL_IMPUTED_FIELD_NUMBER: _ClassVar[int]
    last_ms: float
    imputed: bool
    zscore: float
    minmax: float
    user_mean_ms: float
    last_scroll_depth: float
    scroll_imputed: bool
    def __init__(self, last_ms: _Optional[float] = ..., imputed: bool = ..., zscore: _Optional[float] = ..., minmax: _Optional[float] = ..., user_mean_ms: _Optional[float] = ..., last_scroll_depth: _Optional[float] = ..., scroll_imputed: bool = ...) -> None: ...

class ContextFeatures(_message.Message):
    __slots__ = ("local_hour", "weekday", "day_part", "device_type", "os", "browser", "country", "region", "timezone")
    LOCAL_HOUR_FIELD_NUMBER: _ClassVar[int]
    WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    DAY_PART_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    BROWSER_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    local_hour: int
    weekday: int
    day_part: str
    device_type: str
    os: str
    browser: str
    country: str
    region: str
    timezone: str
    def __init__(self, local_hour: _Optional[int] = ..., weekday: _Optional[int] = ..., day_part: _Optional[str] = ..., device_type: _Optional[str] = ..., os: _Optional[str] = ..., browser: _Optional[str] = ..., country: _Optional[str] = ..., region: _Optional[str] = ..., timezone: _Optional[str] = ...) -> None: ...

class ItemAffinity(_message.Message):
    __slots__ = ("item_id", "affinity")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    affinity: float
    def __init__(self, item_id: _Optional[str] = ..., affinity: _Optional[float] = ...) -> None: ...

class ConsentState(_message.Message):
    __slots__ = ("user_id", "personalization", "analytics", "updated_at_ms")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PERSONALIZATION_FIELD_NUMBER: _ClassVar[int]
    ANALYTICS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    personalization: bool
    analytics: bool
    updated_at_ms: int
    def __init__(self, user_id: _Optional[str] = ..., personalization: bool = ..., analytics: bool = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class UserProfile(_message.Message):
    __slots__ = ("user_id", "event_count", "event_type_counts", "recent_item_ids", "category_counts", "purchased_item_ids", "last_context", "first_seen_ms", "last_seen_ms", "last_event_id", "updated_at_ms", "segment", "windows", "rfm", "category_preferences", "item_affinities", "sessions", "dwell", "context", "flags", "filtered_events", "flagged_until_ms", "recent_item_ts_ms")
    class EventTypeCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class CategoryPreferencesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    RECENT_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_COUNTS_FIELD_NUMBER: _ClassVar[int]
    PURCHASED_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    RFM_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    ITEM_AFFINITIES_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    DWELL_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    FILTERED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    RECENT_ITEM_TS_MS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    event_count: int
    event_type_counts: _containers.ScalarMap[str, int]
    recent_item_ids: _containers.RepeatedScalarFieldContainer[str]
    category_counts: _containers.RepeatedCompositeFieldContainer[CategoryCount]
    purchased_item_ids: _containers.RepeatedScalarFieldContainer[str]
    last_context: Context
    first_seen_ms: int
    last_seen_ms: int
    last_event_id: str
    updated_at_ms: int
    segment: str
    windows: _containers.RepeatedCompositeFieldContainer[WindowFeatures]
    rfm: RfmFeatures
    category_preferences: _containers.ScalarMap[str, float]
    item_affinities: _containers.RepeatedCompositeFieldContainer[ItemAffinity]
    sessions: SessionFeatures
    dwell: DwellFeatures
    context: ContextFeatures
    flags: _containers.RepeatedScalarFieldContainer[str]
    filtered_events: int
    flagged_until_ms: int
    recent_item_ts_ms: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_id: _Optional[str] = ..., event_count: _Optional[int] = ..., event_type_counts: _Optional[_Mapping[str, int]] = ..., recent_item_ids: _Optional[_Iterable[str]] = ..., category_counts: _Optional[_Iterable[_Union[CategoryCount, _Mapping]]] = ..., purchased_item_ids: _Optional[_Iterable[str]] = ..., last_context: _Optional[_Union[Context, _Mapping]] = ..., first_seen_ms: _Optional[int] = ..., last_seen_ms: _Optional[int] = ..., last_event_id: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., segment: _Optional[str] = ..., windows: _Optional[_Iterable[_Union[WindowFeatures, _Mapping]]] = ..., rfm: _Optional[_Union[RfmFeatures, _Mapping]] = ..., category_preferences: _Optional[_Mapping[str, float]] = ..., item_affinities: _Optional[_Iterable[_Union[ItemAffinity, _Mapping]]] = ..., sessions: _Optional[_Union[SessionFeatures, _Mapping]] = ..., dwell: _Optional[_Union[DwellFeatures, _Mapping]] = ..., context: _Optional[_Union[ContextFeatures, _Mapping]] = ..., flags: _Optional[_Iterable[str]] = ..., filtered_events: _Optional[int] = ..., flagged_until_ms: _Optional[int] = ..., recent_item_ts_ms: _Optional[_Iterable[int]] = ...) -> None: ...

class ItemFeatures(_message.Message):
    __slots__ = ("item_id", "category", "trending_score", "interactions", "velocity", "co_occurring", "updated_at_ms", "first_seen_ms", "price_band", "bought_with")
    class InteractionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TRENDING_SCORE_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_FIELD_NUMBER: _ClassVar[int]
    CO_OCCURRING_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_MS_FIELD_NUMBER: _ClassVar[int]
    PRICE_BAND_FIELD_NUMBER: _ClassVar[int]
    BOUGHT_WITH_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    category: str
    trending_score: float
    interactions: _containers.ScalarMap[str, float]
    velocity: float
    co_occurring: _containers.RepeatedCompositeFieldContainer[ItemAffinity]
    updated_at_ms: int
    first_seen_ms: int
    price_band: int
    bought_with: _containers.RepeatedCompositeFieldContainer[ItemAffinity]
    def __init__(self, item_id: _Optional[str] = ..., category: _Optional[str] = ..., trending_score: _Optional[float] = ..., interactions: _Optional[_Mapping[str, float]] = ..., velocity: _Optional[float] = ..., co_occurring: _Optional[_Iterable[_Union[ItemAffinity, _Mapping]]] = ..., updated_at_ms: _Optional[int] = ..., first_seen_ms: _Optional[int] = ..., price_band: _Optional[int] = ..., bought_with: _Optional[_Iterable[_Union[ItemAffinity, _Mapping]]] = ...) -> None: ...

class ContentNeighbours(_message.Message):
    __slots__ = ("item_id", "items")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    items: _containers.RepeatedCompositeFieldContainer[ItemAffinity]
    def __init__(self, item_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ItemAffinity, _Mapping]]] = ...) -> None: ...

class ItemFactorsChunk(_message.Message):
    __slots__ = ("version", "chunk", "chunks", "dim", "item_ids", "factors", "regularization", "alpha", "trained_at_ms")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    REGULARIZATION_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    TRAINED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    version: str
    chunk: int
    chunks: int
    dim: int
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    factors: bytes
    regularization: float
    alpha: float
    trained_at_ms: int
    def __init__(self, version: _Optional[str] = ..., chunk: _Optional[int] = ..., chunks: _Optional[int] = ..., dim: _Optional[int] = ..., item_ids: _Optional[_Iterable[str]] = ..., factors: _Optional[bytes] = ..., regularization: _Optional[float] = ..., alpha: _Optional[float] = ..., trained_at_ms: _Optional[int] = ...) -> None: ...
