"""Pascal VOC labels: a zip of XML files, one per image (any folder; drafts/ and prelabels/
of an annolog export are skipped).

The image is found by <source><annolog_item_id> or <filename>. Each <object> gives its
<name> (the tag) and <bndbox> (xmin, ymin, xmax, ymax in the image's pixel coordinates, taken
as continuous, as annolog writes them), or its <polygon> points where there are any (annolog's
extension). A file with a DOCTYPE is refused: VOC has none, and entities are a way in.
"""

from collections.abc import Iterator
from xml.etree import ElementTree

from server.labels_import.archive import members
from server.labels_import.context import Context
from server.labels_import.frames import framed_builder
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped
from server.media.archives import Member


def _number(element: ElementTree.Element, path: str) -> float:
    found = element.findtext(path)
    if found is None:
        raise Fault(f"<{path}> is missing")
    try:
        return float(found)
    except ValueError:
        raise Fault(f"<{path}> is not a number: {found!r}") from None


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    for member in members(data):
        if not isinstance(member, Member):
            yield member
            continue
        if not member.name.lower().endswith(".xml"):
            yield Skipped(member.name, "not an XML file")
            continue
        try:
            yield _record(member, context)
        except Fault as exc:
            yield Problem(member.name, exc.message)


def _record(member: Member, context: Context) -> Record:
    if b"<!DOCTYPE" in member.data or b"<!ENTITY" in member.data:
        raise Fault("the file declares a DOCTYPE or entities, which VOC files do not")
    try:
        root = ElementTree.fromstring(member.data)
    except ElementTree.ParseError as exc:
        raise Fault(f"not XML: {exc}") from None
    if root.tag != "annotation":
        raise Fault(f"the root element is <{root.tag}>, not <annotation>")
    frame = root.findtext("source/frame")
    builder = framed_builder(
        context,
        item_id=root.findtext("source/annolog_item_id"),
        name=root.findtext("filename"),
        frame=int(frame) if frame is not None and frame.strip().isdigit() else frame,
    )
    item = builder.item
    for index, obj in enumerate(root.iter("object")):
        try:
            tag = obj.findtext("name")
            polygon = obj.find("polygon")
            if polygon is not None and context.project_type != "bounding_boxes":
                points = [(_number(pt, "x"), _number(pt, "y")) for pt in polygon.iter("pt")]
                builder.polygon(tag, points)
            else:
                xmin, ymin = _number(obj, "bndbox/xmin"), _number(obj, "bndbox/ymin")
                xmax, ymax = _number(obj, "bndbox/xmax"), _number(obj, "bndbox/ymax")
                builder.box(tag, xmin, ymin, xmax - xmin, ymax - ymin)
        except Fault as exc:
            raise Fault(f"object {index + 1}: {exc.message}") from None
    return Record(member.name, item.item_id, builder.gestures, builder.part)
