from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("user_id", "k", "context", "exclude_item_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    k: int
    context: Context
    exclude_item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., k: _Optional[int] = ..., context: _Optional[_Union[Context, _Mapping]] = ..., exclude_item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RecommendedItem(_message.Message):
    __slots__ = ("item_id", "score", "reason")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    reason: str
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class GetRecommendationsResponse(_message.Message):
    __slots__ = ("request_id", "items", "model_version", "segment", "updated_at_ms", "cold_start")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COLD_START_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    model_version: str
    segment: str
    updated_at_ms: int
    cold_start: bool
    def __init__(self, request_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., model_version: _Optional[str] = ..., segment: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., cold_start: bool = ...) -> None: ...

class RecommendationList(_message.Message):
    __slots__ = ("user_id", "items", "model_version", "segment", "updated_at_ms", "last_event_id", "last_event_ts")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_TS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    model_version: str
    segment: str
    updated_at_ms: int
    last_event_id: str
    last_event_ts: int
    def __init__(self, user_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., model_version: _Optional[str] = ..., segment: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., last_event_id: _Optional[str] = ..., last_event_ts: _Optional[int] = ...) -> None: ...

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

class UserProfile(_message.Message):
    __slots__ = ("user_id", "event_count", "event_type_counts", "recent_item_ids", "category_counts", "purchased_item_ids", "last_context", "first_seen_ms", "last_seen_ms", "last_event_id", "updated_at_ms", "segment")
    class EventTypeCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
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
    def __init__(self, user_id: _Optional[str] = ..., event_count: _Optional[int] = ..., event_type_counts: _Optional[_Mapping[str, int]] = ..., recent_item_ids: _Optional[_Iterable[str]] = ..., category_counts: _Optional[_Iterable[_Union[CategoryCount, _Mapping]]] = ..., purchased_item_ids: _Optional[_Iterable[str]] = ..., last_context: _Optional[_Union[Context, _Mapping]] = ..., first_seen_ms: _Optional[int] = ..., last_seen_ms: _Optional[int] = ..., last_event_id: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., segment: _Optional[str] = ...) -> None: ...
