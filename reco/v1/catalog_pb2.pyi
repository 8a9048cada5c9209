from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Availability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AVAILABILITY_UNSPECIFIED: _ClassVar[Availability]
    IN_STOCK: _ClassVar[Availability]
    OUT_OF_STOCK: _ClassVar[Availability]
    DISCONTINUED: _ClassVar[Availability]
    PREORDER: _ClassVar[Availability]
AVAILABILITY_UNSPECIFIED: Availability
IN_STOCK: Availability
OUT_OF_STOCK: Availability
DISCONTINUED: Availability
PREORDER: Availability

class Item(_message.Message):
    __slots__ = ("item_id", "title", "category_path", "brand", "price", "currency", "availability", "created_ms", "labels", "description", "image_url", "attributes", "updated_ms")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_PATH_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_MS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_MS_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    title: str
    category_path: _containers.RepeatedScalarFieldContainer[str]
    brand: str
    price: float
    currency: str
    availability: Availability
    created_ms: int
    labels: _containers.RepeatedScalarFieldContainer[str]
    description: str
    image_url: str
    attributes: _containers.ScalarMap[str, str]
    updated_ms: int
    def __init__(self, item_id: _Optional[str] = ..., title: _Optional[str] = ..., category_path: _Optional[_Iterable[str]] = ..., brand: _Optional[str] = ..., price: _Optional[float] = ..., currency: _Optional[str] = ..., availability: _Optional[_Union[Availability, str]] = ..., created_ms: _Optional[int] = ..., labels: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., image_url: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., updated_ms: _Optional[int] = ...) -> None: ...
