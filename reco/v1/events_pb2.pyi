from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Consent(_message.Message):
    __slots__ = ("personalization", "analytics")
    PERSONALIZATION_FIELD_NUMBER: _ClassVar[int]
    ANALYTICS_FIELD_NUMBER: _ClassVar[int]
    personalization: bool
    analytics: bool
    def __init__(self, personalization: bool = ..., analytics: bool = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("event_id", "event_type", "user_id", "item_id", "ts", "session_id", "dwell_ms", "scroll_depth", "price", "quantity", "category", "user_agent", "device", "country", "region", "timezone", "request_id", "consent")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    DWELL_MS_FIELD_NUMBER: _ClassVar[int]
    SCROLL_DEPTH_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    user_id: str
    item_id: str
    ts: int
    session_id: str
    dwell_ms: int
    scroll_depth: float
    price: float
    quantity: int
    category: str
    user_agent: str
    device: str
    country: str
    region: str
    timezone: str
    request_id: str
    consent: Consent
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., user_id: _Optional[str] = ..., item_id: _Optional[str] = ..., ts: _Optional[int] = ..., session_id: _Optional[str] = ..., dwell_ms: _Optional[int] = ..., scroll_depth: _Optional[float] = ..., price: _Optional[float] = ..., quantity: _Optional[int] = ..., category: _Optional[str] = ..., user_agent: _Optional[str] = ..., device: _Optional[str] = ..., country: _Optional[str] = ..., region: _Optional[str] = ..., timezone: _Optional[str] = ..., request_id: _Optional[str] = ..., consent: _Optional[_Union[Consent, _Mapping]] = ...) -> None: ...
