"""The DCAT-AP 3 catalogue of the published packages, for open-data catalogues to harvest.

Generated from the database served (its `_packages` and `releases` tables), so it
names exactly the release a harvester will download: one dcat:Dataset per data
package, with its title and description, licence, publisher, temporal and
spatial coverage (the division codes), update frequency, release id, modified
date, contact point, and distributions for CSV, Excel CSV, JSON and the zip.
JSON-LD here; Turtle via rdflib.
"""

import json

from .config import config
from .figures import rows

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "adms": "http://www.w3.org/ns/adms#",
    "locn": "http://www.w3.org/ns/locn#",
    "schema": "http://schema.org/",
}
EU = "http://publications.europa.eu/resource/authority"
IANA = "https://www.iana.org/assignments/media-types"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
PUBLISHER = "楚雄州困境儿童保障数据公开门户"
PREFECTURE = ("532300", "楚雄彝族自治州")
FREQUENCY = {True: f"{EU}/frequency/ANNUAL", False: f"{EU}/frequency/IRREG"}


def zh(text):
    return {"@value": text, "@language": "zh"}


def date(value):
    return {"@value": value, "@type": "xsd:date"}


def distribution(ident, title, url, media, fmt, description=None):
    out = {
        "@id": ident,
        "@type": "dcat:Distribution",
        "dct:title": zh(title),
        "dcat:accessURL": {"@id": url},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {"@id": f"{IANA}/{media}"},
        "dct:format": {"@id": f"{EU}/file-type/{fmt}"},
        "dct:license": {"@id": LICENSE},
    }
    if description:
        out["dct:description"] = zh(description)
    return out


async def build(db, base, served):
    """The catalogue as a JSON-LD document."""
    packages = await rows(db, "select * from _packages order by position")
    release = (await rows(db, "select * from releases order by rowid desc limit 1"))[0]
    first = (await rows(db, "select min(released_on) as d from releases"))[0]["d"]
    counties = await rows(db, "select county_code, name from counties order by county_code")
    years = await rows(db, "select min(year) as a, max(year) as b from coverage_by_area")
    cfg = config()
    contact = {
        "@type": "vcard:Organization",
        "vcard:fn": zh(PUBLISHER + ("（示例联系方式）" if cfg.contact_is_sample else "")),
        "vcard:hasEmail": {"@id": f"mailto:{cfg.contact_email}"},
        "vcard:hasTelephone": cfg.contact_phone,
    }
    publisher = {"@id": f"{base}/#publisher", "@type": "foaf:Agent", "foaf:name": zh(PUBLISHER)}
    spatial = [
        {
            "@type": "dct:Location",
            "dct:identifier": code,
            "skos:prefLabel": zh(name),
        }
        for code, name in [PREFECTURE, *((c["county_code"], c["name"]) for c in counties)]
    ]
    spatial[0]["dcat:bbox"] = {
        "@value": "POLYGON((100.7 24.2, 102.6 24.2, 102.6 26.5, 100.7 26.5, 100.7 24.2))",
        "@type": "http://www.opengis.net/ont/geosparql#wktLiteral",
    }
    zip_url = f"{base}/-/releases/{release['release_id']}/chuxiong-open-data.zip"
    datasets = []
    for package in packages:
        descriptor = json.loads(package["descriptor"])
        from_submissions = package["as_of"] is not None
        ident = f"{base}/catalog.jsonld#{package['name']}"
        distributions = []
        for resource in descriptor["resources"]:
            table = f"{base}/chuxiong/{resource['name']}"
            distributions += [
                distribution(
                    f"{ident}-{resource['name']}-csv",
                    f"{resource['name']}（CSV，UTF-8）",
                    f"{table}.csv?_stream=on&_dl=1",
                    "text/csv",
                    "CSV",
                ),
                distribution(
                    f"{ident}-{resource['name']}-excel",
                    f"{resource['name']}（Excel 用 CSV，UTF-8 带 BOM）",
                    f"{table}.csv?_stream=on&_dl=1&_bom=1",
                    "text/csv",
                    "CSV",
                    "带字节顺序标记的 UTF-8 CSV，中文版 Excel 直接打开不乱码",
                ),
                distribution(
                    f"{ident}-{resource['name']}-json",
                    f"{resource['name']}（JSON）",
                    f"{table}.json?_shape=array",
                    "application/json",
                    "JSON",
                ),
            ]
        distributions.append(
            distribution(
                f"{ident}-zip",
                f"全部数据包（版本 {release['release_id']}，Frictionless 数据包，ZIP）",
                zip_url,
                "application/zip",
                "ZIP",
                "本版本全部数据包、数据字典和报送模板；此网址上的文件不会改变",
            )
        )
        dataset = {
            "@id": ident,
            "@type": "dcat:Dataset",
            "dct:identifier": package["name"],
            "dct:title": zh(package["title"]),
            "dct:description": zh(package["description"]),
            "dct:license": {"@id": LICENSE},
            "dct:publisher": {"@id": publisher["@id"]},
            "dcat:contactPoint": contact,
            "dct:language": {"@id": f"{EU}/language/ZHO"},
            "dct:spatial": spatial,
            "dct:accrualPeriodicity": {"@id": FREQUENCY[from_submissions]},
            "dcat:version": release["release_id"],
            "adms:versionNotes": zh(release["notes"]),
            "dct:issued": date(first),
            "dct:modified": date(release["released_on"]),
            "dcat:keyword": [zh("困境儿童"), zh("楚雄州"), zh("楚政发〔2017〕33号")],
            "dcat:landingPage": {"@id": f"{base}/chuxiong/{descriptor['resources'][0]['name']}"},
            "dcat:distribution": distributions,
        }
        if from_submissions:
            dataset["dct:temporal"] = {
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": date(f"{years[0]['a']}-01-01"),
                "dcat:endDate": date(package["as_of"]),
            }
        else:
            dataset["dct:temporal"] = {
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": date("2017-11-30"),
            }
        datasets.append(dataset)
    return {
        "@context": CONTEXT,
        "@id": f"{base}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": zh("楚雄州困境儿童保障公开数据目录"),
        "dct:description": zh(
            "楚雄彝族自治州落实楚政发〔2017〕33号的公开数据：参考数据、行政区划、服务机构、"
            "儿童之家和督导员覆盖情况、经披露控制的困境儿童人数、重点任务进展、数据版本和更正记录。"
        ),
        "dct:publisher": publisher,
        "dct:license": {"@id": LICENSE},
        "dct:language": {"@id": f"{EU}/language/ZHO"},
        "dct:modified": date(release["released_on"]),
        "foaf:homepage": {"@id": f"{base}/"},
        "dcat:dataset": datasets,
    }


def turtle(document):
    from rdflib import Graph

    graph = Graph()
    graph.parse(data=json.dumps(document), format="json-ld")
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    return graph.serialize(format="turtle")
