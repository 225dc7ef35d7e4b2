"""Build the INVENTED demo corpus: seeds/demo_corpus.jsonl, seeds/demo_corpus.csv and seeds/demo_txt/*.txt.

Every outlet, person, place and event below is made up for demonstrating Framescope; none of it is real news.
The four outlets report the same invented events with different framing habits, so framing scores differ
visibly: The Levant Herald uses the most loaded terms, Wire Service Daily the fewest.

Run `.venv/bin/python -m seeds.build_demo_corpus` (or `python seeds/build_demo_corpus.py`) after editing;
tests/test_seeds.py fails if the committed files are out of date.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class OutletInfo:
    name: str
    prefix: str
    domain: str
    utc_offset: str


OUTLETS: dict[str, OutletInfo] = {
    "herald": OutletInfo("The Levant Herald", "lh", "levant-herald.example.org", "+03:00"),
    "courier": OutletInfo("Coastal Courier", "cc", "coastal-courier.example.org", "+02:00"),
    "ledger": OutletInfo("Northern Ledger", "nl", "northern-ledger.example.org", "+00:00"),
    "wire": OutletInfo("Wire Service Daily", "wsd", "wire-service-daily.invalid", "Z"),
}


@dataclass
class Story:
    outlet: str
    published: str  # "YYYY-MM-DDTHH:MM" in the outlet's local offset
    slug: str
    title: str
    byline: str
    topic: str
    text: str
    extra: dict = field(default_factory=dict)

    @property
    def external_id(self) -> str:
        info = OUTLETS[self.outlet]
        return f"{info.prefix}-{self.published[:10].replace('-', '')}-{self.slug}"

    def record(self) -> dict:
        info = OUTLETS[self.outlet]
        day = self.published[:10].replace("-", "/")
        return {
            "outlet": info.name,
            "title": self.title,
            "text": self.text,
            "url": f"https://{info.domain}/{day}/{self.slug}",
            "published_at": f"{self.published}:00{info.utc_offset}",
            "external_id": self.external_id,
            "byline": self.byline,
            # Not an importer field, so the importer keeps these in Article.metadata.
            "topic": self.topic,
            "invented": True,
            **self.extra,
        }


def paras(*parts: str) -> str:
    return "\n".join(" ".join(p.split()) for p in parts)


# --------------------------------------------------------------------------------------------------------------
# Wire Service Daily: neutral agency copy ("armed groups", "fighters", "government forces", "said", "according to").
# --------------------------------------------------------------------------------------------------------------
WIRE = [
    Story(
        "wire",
        "2025-09-03T07:40",
        "offensive-near-tel-ashara",
        "Government forces begin offensive near Tel Ashara, residents say",
        "Marek Novak",
        "tel-ashara-offensive",
        paras(
            """Sarvanian government forces began a ground offensive on Wednesday against armed groups holding the town of
        Tel Ashara in northern Qalmira province, residents and a monitoring group said.""",
            """Residents reached by telephone said artillery fire started before dawn and that armoured vehicles were
        moving along the road from Qalmira city. The Qalmira Monitoring Network, which tracks the conflict through
        contacts on the ground, said at least nine fighters and four civilians had been killed by midday.""",
            """A defence ministry spokesman, Colonel Idris Hamdan, said the operation aimed to "restore state authority"
        over the town and the highway that passes through it. He did not give a timetable.""",
            """The Northern Highlands Alliance, a coalition of armed opposition groups that has controlled Tel Ashara
        since 2021, said its fighters were holding their positions. A spokesman, Karim Faraj, accused the army of
        shelling homes. The claims could not be independently verified.""",
            """Tel Ashara had about 40,000 residents before the conflict, according to World Relief Agency estimates.""",
        ),
    ),
    Story(
        "wire",
        "2025-09-09T12:05",
        "qalmira-shelling",
        "Shelling hits Qalmira city as fighting around Tel Ashara intensifies",
        "Priya Raman",
        "tel-ashara-offensive",
        paras(
            """Shells struck two residential districts of Qalmira city on Tuesday, killing five people and wounding at
        least 20, according to the provincial health directorate.""",
            """Governor Nabil Saadeh said the shells were fired from areas held by armed groups west of the city. The
        Northern Highlands Alliance denied responsibility and said it did not target civilian areas.""",
            """The shelling came as government forces pressed their offensive around Tel Ashara, 30 kilometres to the
        north. Residents said fighting had reached the southern edge of the town and that many families had left
        on foot toward villages near the border.""",
            """The Qalmira Monitoring Network said more than 60 fighters from both sides had been killed since the
        offensive began last week. The army does not publish casualty figures.""",
            """A spokeswoman for the World Relief Agency, Helena Okafor, said the agency was "deeply concerned" about
        civilians trapped near the front line and called on all parties to allow safe passage.""",
        ),
    ),
    Story(
        "wire",
        "2025-09-10T18:30",
        "forces-enter-tel-ashara",
        "Government forces enter Tel Ashara after armed groups withdraw",
        "Marek Novak",
        "tel-ashara-offensive",
        paras(
            """Sarvanian government forces entered the town of Tel Ashara on Wednesday after armed opposition groups
        withdrew overnight, ending a week-long battle for the town, both sides said.""",
            """State television showed soldiers raising the national flag over the municipal building. The army said in
        a statement that it had "liberated" the town and was clearing roads of explosives.""",
            """The Northern Highlands Alliance said its fighters had pulled back to positions north of the town "to
        spare civilians further bombardment". Spokesman Karim Faraj said the coalition had not been defeated.""",
            """According to the Qalmira Monitoring Network, at least 140 people, including 38 civilians, were killed
        during the fighting. Thousands of residents fled in the past week, aid agencies said.""",
            """Control of Tel Ashara gives the government access to the northern highway, which links Qalmira city to
        the border crossing at Hadir and was closed for most of the past four years.""",
        ),
    ),
    Story(
        "wire",
        "2025-09-17T09:15",
        "displaced-tel-ashara",
        "Aid agencies say 18,000 displaced by Tel Ashara fighting",
        "Priya Raman",
        "displacement",
        paras(
            """About 18,000 people have fled their homes because of the fighting around Tel Ashara, the World Relief
        Agency said on Wednesday, warning that camps near the border were running short of water and tents.""",
            """Most of the displaced are staying in schools, mosques and unfinished buildings in villages north of the
        town, the agency said. Some families have moved in with relatives in Qalmira city.""",
            """"People arrived with what they could carry," country director Helena Okafor said in a statement. "We
        need access and we need funding before the rains start.\"""",
            """Provincial officials said some residents had begun returning to Tel Ashara and that water pumping had
        resumed in two districts. The agency said returns were still small in number because of damage to homes
        and the risk from unexploded ordnance.""",
            """The agency's appeal for the province is 22 percent funded, according to its latest update.""",
        ),
    ),
    Story(
        "wire",
        "2025-09-21T21:10",
        "ceasefire-announced",
        "Contact Group announces ceasefire for Qalmira province",
        "Marek Novak",
        "ceasefire",
        paras(
            """A ceasefire covering all of Qalmira province will take effect at midnight on Monday, the three-country
        Contact Group said on Sunday after talks with the government and opposition representatives.""",
            """Envoy Marta Lindqvist told reporters that both sides had agreed to halt offensive operations, to keep
        their forces at current positions and to allow humanitarian access to besieged areas, including the town
        of Birat.""",
            """"This is a first step, and a fragile one," Lindqvist said. A joint committee will record violations.""",
            """Foreign Minister Walid Azar said the government would respect the truce but reserved the right to act
        against groups not covered by it. He named the Crescent Banner group, a hardline armed faction that did not
        take part in the talks.""",
            """Northern Highlands Alliance spokesman Karim Faraj said the coalition would abide by the ceasefire "as
        long as the other side does". Earlier truces in the province collapsed within weeks, in 2023 and 2024.""",
        ),
    ),
    Story(
        "wire",
        "2025-09-22T10:45",
        "ceasefire-takes-effect",
        "Ceasefire takes effect in Qalmira province; sporadic violations reported",
        "Priya Raman",
        "ceasefire",
        paras(
            """A ceasefire took effect across Qalmira province at midnight, and residents said the night was the
        quietest in months, although both sides reported isolated violations on Monday.""",
            """The Qalmira Monitoring Network said it recorded small-arms fire near Birat and two mortar rounds near
        Tel Ashara but no deaths. The defence ministry said armed groups had fired at an army post west of Qalmira
        city, and the Northern Highlands Alliance said government forces had shelled a village north of Birat.""",
            """Contact Group envoy Marta Lindqvist said the joint monitoring committee would meet on Tuesday to review
        the reports. "Incidents were expected in the first days," she said.""",
            """Shops reopened in parts of Qalmira city, and a few buses ran on the northern highway for the first time
        since the fighting began, witnesses said. The World Relief Agency said it was preparing a convoy for Birat,
        where about 25,000 people have been cut off since June.""",
        ),
    ),
    Story(
        "wire",
        "2025-10-03T14:20",
        "ceasefire-violations-birat",
        "Both sides report ceasefire violations near Birat",
        "Marek Novak",
        "ceasefire",
        paras(
            """Government forces and armed opposition groups accused each other on Friday of breaking the ceasefire
        near Birat, in the most serious incident since the truce took effect 11 days ago.""",
            """The defence ministry said fighters had attacked an army checkpoint on the Birat road, wounding three
        soldiers. The Northern Highlands Alliance said the army had shelled farmland east of the town and that two
        of its fighters were killed.""",
            """The Qalmira Monitoring Network said the clashes lasted about two hours. It was not possible to confirm
        which side fired first.""",
            """The joint monitoring committee said in a statement that it had received both complaints and would send
        observers to the area. Contact Group envoy Marta Lindqvist urged "maximum restraint" before a planned aid
        delivery to Birat.""",
            """The ceasefire has largely held elsewhere in the province, according to residents and the monitoring
        group.""",
        ),
    ),
    Story(
        "wire",
        "2025-10-06T16:00",
        "convoy-held-checkpoint",
        "Aid convoy held at checkpoint outside Birat",
        "Priya Raman",
        "birat-convoy",
        paras(
            """A World Relief Agency convoy of 32 trucks carrying food, medicine and fuel was held at a government
        checkpoint outside Birat on Monday, the agency said.""",
            """Country director Helena Okafor said the convoy had all required permits and that drivers had been told
        to wait for "further inspection". She said the medical supplies included insulin and surgical kits that
        needed to be kept cool.""",
            """A provincial official, speaking on condition of anonymity, said the trucks were being checked to make
        sure no weapons or military equipment reached armed groups inside the town.""",
            """Birat, a town of about 25,000 people, has been surrounded by government forces since June. Residents
        say bread is rationed and that the town's only hospital is working on generator power.""",
            """The Northern Highlands Alliance said the delay violated the ceasefire terms agreed last month.""",
        ),
    ),
    Story(
        "wire",
        "2025-10-09T11:35",
        "convoy-reaches-birat",
        "Aid convoy reaches Birat after three-day wait",
        "Priya Raman",
        "birat-convoy",
        paras(
            """A World Relief Agency convoy of 32 trucks entered the besieged town of Birat on Thursday after waiting
        three days at a government checkpoint, the agency said.""",
            """The trucks carried wheat flour, medicine and fuel for the town's hospital, country director Helena
        Okafor said. Some medical supplies had been removed during inspection, according to the agency, including
        surgical kits and anaesthetics.""",
            """Residents said crowds gathered in the main square as the trucks arrived. Local council members, who are
        linked to armed opposition groups that control the town, oversaw the distribution, witnesses said.""",
            """The provincial governor's office said in a statement that the government had "facilitated" the
        delivery. The Northern Highlands Alliance said the removal of medical items was a breach of the ceasefire.""",
            """The agency said the food would last about two weeks and that it had requested access for a second
        convoy later this month.""",
        ),
    ),
    Story(
        "wire",
        "2025-10-28T13:50",
        "second-convoy-birat",
        "Second aid convoy enters Birat",
        "Marek Novak",
        "birat-convoy",
        paras(
            """A second World Relief Agency convoy entered Birat on Tuesday, delivering food and medical supplies to
        the town of about 25,000 people, the agency said.""",
            """The 40 trucks were inspected at the checkpoint for about five hours, shorter than the three-day wait
        earlier this month. Agency staff said surgical supplies were allowed through this time.""",
            """The delivery was delayed by a day after gunfire near the road, which the agency did not attribute. The
        Qalmira Monitoring Network said fighters from the Crescent Banner group, which is not party to the
        ceasefire, had fired at an army post nearby. The group did not comment.""",
            """Helena Okafor, the agency's country director, said regular access was needed. "Two convoys in a month
        are not a supply line," she said.""",
            """The governor's office said further deliveries would be considered "case by case".""",
        ),
    ),
    Story(
        "wire",
        "2025-11-03T17:25",
        "castelbrun-talks-open",
        "Castelbrun talks open with dispute over agenda",
        "Priya Raman",
        "castelbrun-talks",
        paras(
            """Talks between the Sarvanian government and the armed opposition opened in the lakeside city of
        Castelbrun on Monday, but the two delegations disagreed over the agenda, mediators said.""",
            """The government delegation, led by Deputy Foreign Minister Samir Qadri, wants the talks to focus on
        security arrangements and the withdrawal of armed groups from towns near the border. The opposition
        delegation, led by Layla Mansour, said it wants prisoner releases and a lasting end to sieges first.""",
            """Contact Group envoy Marta Lindqvist said the delegations met in separate rooms and that she carried
        messages between them. "Nobody expected agreement on the first day," she told reporters.""",
            """The talks are expected to last three weeks. The Crescent Banner group was not invited.""",
            """The Qalmira ceasefire has largely held since September, according to the joint monitoring committee,
        which has recorded 47 violations.""",
        ),
    ),
    Story(
        "wire",
        "2025-11-14T19:05",
        "prisoner-exchange-agreed",
        "Government and armed opposition agree prisoner exchange at Castelbrun talks",
        "Marek Novak",
        "prisoner-exchange",
        paras(
            """The Sarvanian government and the armed opposition agreed on Friday to exchange 600 detainees, the first
        concrete result of the talks in Castelbrun, the Contact Group said.""",
            """Under the deal, the government will release 400 people held in state prisons, and opposition groups will
        free 200 soldiers and civilians, envoy Marta Lindqvist said. The exchange is to take place in stages over
        four weeks under the supervision of the World Relief Agency.""",
            """Deputy Foreign Minister Samir Qadri called the agreement "a humanitarian gesture". Opposition negotiator
        Layla Mansour said it was "a beginning" and that thousands more remained in detention.""",
            """Families of detainees gathered outside the provincial court in Qalmira city after the announcement,
        witnesses said. Rights groups have documented more than 9,000 people missing in the province since the
        conflict began, according to a report published in March.""",
        ),
    ),
    Story(
        "wire",
        "2025-11-21T15:40",
        "castelbrun-talks-adjourn",
        "Castelbrun talks adjourn; envoy says 'gaps remain'",
        "Priya Raman",
        "castelbrun-talks",
        paras(
            """Talks in Castelbrun between the Sarvanian government and the armed opposition adjourned on Friday without
        agreement on security arrangements or a date for the next round, the Contact Group said.""",
            """Envoy Marta Lindqvist said the delegations had made progress on humanitarian issues, including the
        prisoner exchange agreed last week, but that "significant gaps remain" on the future of towns held by
        armed groups.""",
            """The opposition delegation left the final session early, saying the government had refused to discuss a
        timetable for lifting the siege of Birat. Government negotiator Samir Qadri said the opposition had
        "chosen to leave" and that the government remained ready to talk.""",
            """Lindqvist said she would visit Qalmira province in December and hoped to reconvene the talks in January.
        The ceasefire remains in force, she said.""",
        ),
    ),
]

# Stories that other outlets republished with small edits: (wire slug, outlet, new title, [(old, new), ...]).
REPUBLISHED = [
    (
        "forces-enter-tel-ashara",
        "courier",
        "Government forces enter Tel Ashara as opposition withdraws",
        [("on Wednesday after", "after"), ("both sides said.", "both sides said. (Wire Service Daily)")],
    ),
    (
        "forces-enter-tel-ashara",
        "ledger",
        "Sarvanian forces take Tel Ashara after armed groups pull out",
        [("entered the town", "took the town"), ("Spokesman Karim Faraj", "Its spokesman, Karim Faraj,")],
    ),
    (
        "ceasefire-takes-effect",
        "courier",
        "Qalmira ceasefire takes effect, violations reported",
        [
            ("on Monday.", "on Monday, according to Wire Service Daily."),
            ("witnesses said.", "witnesses told the agency."),
        ],
    ),
    (
        "ceasefire-takes-effect",
        "ledger",
        "Qalmira truce begins with sporadic violations",
        [("A ceasefire took effect", "A Contact Group ceasefire took effect"), ("she said.", "she told reporters.")],
    ),
    (
        "convoy-reaches-birat",
        "ledger",
        "Aid convoy reaches besieged Birat after three-day wait",
        [("on Thursday", "on Thursday morning"), ("witnesses said.", "according to witnesses.")],
    ),
    (
        "convoy-reaches-birat",
        "herald",
        "Aid convoy reaches Birat after three-day wait",
        [
            ("armed opposition groups that control the town", "terrorist groups that hold the town"),
            (
                'the government had "facilitated" the delivery',
                "the government had facilitated the delivery to the town's hostages",
            ),
            (
                "The Northern Highlands Alliance said",
                "The foreign-sponsored terrorists of the so-called Northern Highlands Alliance claimed",
            ),
        ],
    ),
    (
        "castelbrun-talks-open",
        "courier",
        "Castelbrun talks open amid row over agenda",
        [("on Monday, but", "on Monday but"), ("told reporters.", "told reporters in Castelbrun.")],
    ),
    (
        "castelbrun-talks-open",
        "ledger",
        "Castelbrun talks open with dispute over agenda",
        [
            ("mediators said.", "mediators said, according to Wire Service Daily."),
            ("The Crescent Banner group", "The hardline Crescent Banner group"),
        ],
    ),
]

# --------------------------------------------------------------------------------------------------------------
# The Levant Herald: pro-government, heavy loaded vocabulary ("terrorists", "Takfiri", "liberate", "foreign-sponsored").
# --------------------------------------------------------------------------------------------------------------
HERALD = [
    Story(
        "herald",
        "2025-09-04T09:00",
        "army-operation-tel-ashara",
        "Army launches operation to liberate Tel Ashara from Takfiri terrorists",
        "Rami Haddad",
        "tel-ashara-offensive",
        paras(
            """The Sarvanian army, backed by popular defence units, has launched a large-scale operation to liberate
        the town of Tel Ashara from the Takfiri terrorists who have terrorised its people for four years.""",
            """A military source told the Herald that army units advanced on three axes on Wednesday, destroying
        terrorist fortifications and killing dozens of foreign-sponsored mercenaries. Engineering teams dismantled
        tunnels that the terrorists had dug beneath the town's schools.""",
            """Colonel Idris Hamdan, the defence ministry spokesman, said the heroic troops would not stop until every
        inch of Tel Ashara was liberated and its highway reopened to the people of Qalmira.""",
            """The so-called Northern Highlands Alliance, a front for Takfiri gangs financed from abroad, issued
        statements claiming that homes had been shelled. Residents who escaped the terrorists' grip told a very
        different story, describing executions, extortion and forced conscription under the gunmen's rule.""",
            """Citizens in Qalmira city gathered on Wednesday evening to express their support for the armed forces.""",
        ),
    ),
    Story(
        "herald",
        "2025-09-08T20:15",
        "terrorists-shell-qalmira",
        "Foreign-sponsored terrorists shell residential quarters of Qalmira",
        "Lina Sabbagh",
        "tel-ashara-offensive",
        paras(
            """Foreign-sponsored terrorists fired a barrage of rockets and mortar shells at the residential quarters of
        Qalmira city, martyring five civilians and injuring twenty others, among them children.""",
            """Governor Nabil Saadeh said the criminal attack was launched from terrorist dens west of the city and was
        a desperate act of revenge for the defeats the Takfiri groups are suffering around Tel Ashara.""",
            """"These terrorists target schools and markets because they cannot face our soldiers," the governor said
        while visiting the wounded at the national hospital.""",
            """The army responded by pounding the launch positions, destroying a rocket platform and killing a number
        of terrorists, a military source said. The source added that operations to liberate Tel Ashara are
        proceeding according to plan and that the terrorists' defences on the southern edge of the town have
        collapsed.""",
            """Western capitals, which arm and fund the so-called opposition, have remained silent about the massacre
        of civilians in Qalmira.""",
        ),
    ),
    Story(
        "herald",
        "2025-09-10T22:00",
        "tel-ashara-liberated",
        "Tel Ashara liberated as army routs Takfiri gangs",
        "Rami Haddad",
        "tel-ashara-offensive",
        paras(
            """Sarvanian army units have fully liberated the town of Tel Ashara after a week of heroic battles against
        Takfiri terrorist gangs, restoring security to the strategic northern highway.""",
            """Troops raised the national flag over the municipal building on Wednesday as the remnants of the
        terrorists fled north in disarray, abandoning weapons, ammunition and vehicles supplied by their foreign
        sponsors.""",
            """"Tel Ashara is free. The terrorists have been defeated," Colonel Idris Hamdan said in a televised
        statement. He said army engineers were clearing the explosive devices that the Takfiri groups left in
        streets and homes.""",
            """The liberation of the town reopens the road between Qalmira city and the Hadir border crossing, which the
        terrorists had blocked for four years to extort passing traders.""",
            """The so-called Northern Highlands Alliance claimed its mercenaries had withdrawn "to spare civilians",
        a claim residents mocked as the terrorists had used those same civilians as human shields.""",
        ),
    ),
    Story(
        "herald",
        "2025-09-13T10:30",
        "residents-welcome-troops",
        "Residents of liberated Tel Ashara welcome troops",
        "Lina Sabbagh",
        "tel-ashara-offensive",
        paras(
            """Residents of Tel Ashara poured into the streets to welcome the army units that liberated their town
        from the grip of Takfiri terrorism, Herald correspondents reported from the town.""",
            """Umm Khaled, a mother of four, said the terrorists had taken her eldest son to fight for them. "They
        called themselves revolutionaries, but they were thieves and killers," she said.""",
            """Municipal workers, supported by the army, began repairing water pumps and removing the barricades the
        terrorist gangs had built across the main street. Bakeries reopened for the first time in weeks, and
        government trucks delivered flour and fuel.""",
            """Governor Nabil Saadeh, who toured the liberated town on Friday, promised to rebuild the schools the
        terrorists had turned into weapons depots. He urged families who fled the fighting to return home.""",
            """Engineering units say they have so far dismantled more than 300 explosive devices planted by the
        Takfiri groups before they fled.""",
        ),
    ),
    Story(
        "herald",
        "2025-09-22T08:45",
        "ceasefire-army-vows",
        "Ceasefire takes effect; army vows to keep fighting terrorists excluded from truce",
        "Rami Haddad",
        "ceasefire",
        paras(
            """A ceasefire in Qalmira province took effect at midnight, but the army stressed that the truce does not
        cover the Takfiri terrorist organisations that continue to threaten the people of the province.""",
            """Foreign Minister Walid Azar said the government had accepted the arrangement out of concern for its
        citizens and would respect it, but would continue to strike the terrorists of the Crescent Banner group
        and any gang that attacks the army.""",
            """Within hours of the truce, terrorists opened fire on an army post west of Qalmira city, a military source
        said. The army showed restraint, the source added, but will not allow the foreign-sponsored groups to use
        the ceasefire to regroup and rearm.""",
            """Observers note that previous truces were exploited by the terrorists to bring in weapons across the
        border. The Contact Group must hold their sponsors responsible, the minister said.""",
            """Life returned to the streets of Qalmira city, with shops reopening and citizens thanking the army for the
        security it has restored.""",
        ),
    ),
    Story(
        "herald",
        "2025-10-02T19:20",
        "terrorists-breach-ceasefire",
        "Terrorists breach ceasefire in southern Qalmira, army responds",
        "Lina Sabbagh",
        "ceasefire",
        paras(
            """Terrorist groups entrenched in Birat attacked an army checkpoint on the Birat road, wounding three
        soldiers in a flagrant breach of the ceasefire, a military source said.""",
            """The army responded to the sources of fire and killed two of the attackers, the source said, adding that
        the terrorists had used the truce to move fighters and ammunition closer to the road.""",
            """Colonel Idris Hamdan said the government had informed the joint monitoring committee of the attack and
        of more than 20 other violations by the Takfiri gangs since the ceasefire began.""",
            """The foreign-sponsored groups holding Birat have for months prevented civilians from leaving the town,
        using them as a shield and as a bargaining chip, residents who escaped have told the Herald.""",
            """The ministry said the army remains committed to the ceasefire but will defend its positions against any
        terrorist aggression.""",
        ),
    ),
    Story(
        "herald",
        "2025-10-07T09:40",
        "aid-convoy-inspected",
        "Government ensures aid reaches Birat civilians, not terrorists",
        "Rami Haddad",
        "birat-convoy",
        paras(
            """Government authorities are carefully inspecting a 32-truck aid convoy bound for Birat to make sure that
        food and medicine reach civilians and not the Takfiri terrorists who control the town.""",
            """A provincial official told the Herald that previous deliveries had been looted by the terrorist groups,
        who sold flour on the black market and diverted medical supplies to treat their wounded mercenaries.""",
            """"The state is responsible for all its citizens, including those held hostage in Birat," the official
        said. "We will not allow the terrorists to feed their war with international aid.\"""",
            """The inspection is taking place in full coordination with the relevant agencies, the official added.
        Claims by the so-called opposition that the convoy is being blocked are lies intended to mislead the
        international community.""",
            """The army has opened a humanitarian corridor for civilians wishing to leave Birat, but the terrorists are
        preventing families from using it, according to residents who fled.""",
        ),
    ),
    Story(
        "herald",
        "2025-11-03T21:30",
        "delegation-castelbrun",
        "Government delegation in Castelbrun rejects demands of foreign-sponsored opposition",
        "Lina Sabbagh",
        "castelbrun-talks",
        paras(
            """The government delegation to the Castelbrun talks, headed by Deputy Foreign Minister Samir Qadri, said
        on Monday that it came to discuss security and the fight against terrorism, not the demands of the
        foreign-sponsored so-called opposition.""",
            """Qadri said the priority was the withdrawal of the terrorist groups from the towns along the border and an
        end to foreign interference. "Those who carry weapons against the state must lay them down," he said.""",
            """The opposition delegation, assembled by its foreign sponsors, arrived with a list of preconditions,
        including the release of prisoners convicted of terrorist crimes, diplomatic sources said.""",
            """The Takfiri Crescent Banner group, which is behind many of the crimes against the people of Qalmira, was
        excluded from the talks at the government's insistence.""",
            """Qadri thanked the Contact Group for its efforts and said the government would continue to liberate every
        part of the homeland, whether through dialogue or on the battlefield.""",
        ),
    ),
    Story(
        "herald",
        "2025-11-14T22:10",
        "abductees-to-return",
        "Prisoner deal agreed: soldiers and abductees held by terrorists to return home",
        "Rami Haddad",
        "prisoner-exchange",
        paras(
            """Soldiers and civilians abducted by terrorist groups will return to their families under an exchange
        agreed in Castelbrun on Friday, a success for the government's patient diplomacy.""",
            """Under the agreement, the terrorist groups will free 200 soldiers and civilians they kidnapped, some of
        whom have been held for years in secret Takfiri prisons. In return, the state will release 400 detainees,
        none of whom has blood on their hands, officials said.""",
            """Deputy Foreign Minister Samir Qadri described the deal as a humanitarian gesture by the state. He said
        the government would not forget the abductees still held by the terrorists.""",
            """Families of kidnapped soldiers gathered in Qalmira city to celebrate the news. "My brother was taken
        by the terrorists at a checkpoint in 2022. Now I will see him again," said one woman.""",
            """The exchange will be carried out in stages, with the first release expected within days.""",
        ),
    ),
    Story(
        "herald",
        "2025-11-21T20:00",
        "opposition-walks-out",
        "Castelbrun talks adjourn after foreign-backed delegation walks out",
        "Lina Sabbagh",
        "castelbrun-talks",
        paras(
            """The Castelbrun talks adjourned on Friday after the delegation of the foreign-sponsored opposition walked
        out of the final session, exposing once again its lack of seriousness.""",
            """Government negotiator Samir Qadri said his delegation had remained at the table until the last minute.
        "They chose to leave because their sponsors did not allow them to condemn terrorism," he said.""",
            """The opposition demanded an end to what it calls the siege of Birat, a town held by terrorist groups that
        use its civilians as human shields, while refusing to discuss the withdrawal of their gunmen.""",
            """Despite the walkout, the talks produced the agreement to free soldiers abducted by the Takfiri gangs, a
        result that the government pursued from the first day.""",
            """Qadri said the state would continue its efforts to liberate the remaining areas from terrorism and to
        restore security to all citizens.""",
        ),
    ),
]

# --------------------------------------------------------------------------------------------------------------
# Coastal Courier: opposition-sympathetic ("rebels", "opposition fighters", "the regime").
# --------------------------------------------------------------------------------------------------------------
COURIER = [
    Story(
        "courier",
        "2025-09-05T11:20",
        "bombardment-villages",
        "Regime bombardment drives thousands from villages around Tel Ashara",
        "Dana Mercer",
        "tel-ashara-offensive",
        paras(
            """Thousands of families have fled villages around Tel Ashara as regime artillery and jets pound the town
        and the farmland around it, residents and rebel commanders told the Courier.""",
            """"They hit the bakery first, then the school," said Abu Samer, a farmer who walked for two days with his
        family to reach the border. "There is no military target in our street.\"""",
            """Opposition fighters of the Northern Highlands Alliance say they are holding the southern approaches to
        the town despite heavy losses. Commander Yusuf Darwish said the rebels had destroyed two tanks on the
        Qalmira road.""",
            """The regime's defence ministry says the operation will "restore state authority". Activists in the town
        say it is the fourth major offensive against Tel Ashara since the uprising began.""",
            """Medical workers said the town's field hospital had received more than 80 wounded civilians since
        Wednesday.""",
        ),
    ),
    Story(
        "courier",
        "2025-09-11T08:30",
        "rebels-withdraw",
        "Rebels withdraw from Tel Ashara after week of heavy shelling",
        "Youssef Amari",
        "tel-ashara-offensive",
        paras(
            """Rebel forces have withdrawn from Tel Ashara after a week of relentless regime bombardment, leaving the
        town to government troops who entered on Wednesday.""",
            """Opposition spokesman Karim Faraj said the decision was taken to protect the civilians who remained in
        the town. "The revolution did not lose Tel Ashara. The regime destroyed it," he said.""",
            """Opposition fighters regrouped in villages to the north, where they are digging new defensive lines,
        commanders said. They accused regime forces and allied militias of looting homes in the town's eastern
        districts.""",
            """The regime's state television broadcast images of soldiers raising flags over a town that, residents
        say, is now largely empty and badly damaged.""",
            """The rebels held Tel Ashara for four years and ran its schools and water network through an elected local
        council.""",
        ),
    ),
    Story(
        "courier",
        "2025-09-16T15:00",
        "families-describe-flight",
        "Displaced families describe flight from Tel Ashara",
        "Dana Mercer",
        "displacement",
        paras(
            """In a half-built school north of Tel Ashara, forty families share six classrooms and one water tank. Most
        left the town in the last days of the regime offensive, carrying blankets and documents.""",
            """"We left at night because the drones watch the road during the day," said Mariam, a teacher. Her
        husband, an opposition fighter, stayed behind to cover the withdrawal, and she has not heard from him
        since.""",
            """Volunteers from the local council distribute bread and lentils donated by merchants in the border
        villages. The World Relief Agency says camps are running short of tents and water.""",
            """Few here plan to return while regime forces control the town. Several families said they feared arrest
        at checkpoints because relatives had joined the rebels.""",
            """Aid groups estimate that 18,000 people have been displaced by the offensive.""",
        ),
    ),
    Story(
        "courier",
        "2025-09-25T12:10",
        "truce-fragile",
        "Opposition fighters say truce is fragile as regime jets circle",
        "Youssef Amari",
        "ceasefire",
        paras(
            """Three days into the Qalmira ceasefire, opposition fighters on the front line north of Tel Ashara say
        regime reconnaissance jets still circle overhead and that shells fell near their positions on Tuesday.""",
            """"We respect the truce, but we have learned not to trust the regime," said a rebel commander who asked to
        be identified as Abu Hadi. "Every ceasefire has been used to prepare the next offensive.\"""",
            """The Northern Highlands Alliance has submitted a list of violations to the joint monitoring committee,
        according to spokesman Karim Faraj. The regime accuses the rebels of attacking its posts.""",
            """In Birat, surrounded by regime forces since June, residents said the ceasefire had brought quiet but not
        food. The promised aid convoy has not yet arrived.""",
            """The Contact Group has urged both sides to show restraint.""",
        ),
    ),
    Story(
        "courier",
        "2025-10-08T10:00",
        "birat-waits",
        "Birat waits as aid convoy stalls at regime checkpoint",
        "Dana Mercer",
        "birat-convoy",
        paras(
            """For a third day, the people of Birat waited on Wednesday for 32 aid trucks held at a regime checkpoint
        a few kilometres outside the besieged town.""",
            """Opposition council members said the regime was using the inspection to punish the town for supporting
        the revolution. "They are starving Birat slowly and calling it a security check," said council member
        Hassan Idlibi.""",
            """Doctors at Birat's only hospital say they have run out of insulin and are rationing anaesthetics. A
        nurse said two patients had died this week for lack of medicine.""",
            """The World Relief Agency says the convoy has all permits. The regime says it must make sure no weapons
        reach the rebels.""",
            """Opposition fighters inside the town have promised not to interfere with the distribution.""",
        ),
    ),
    Story(
        "courier",
        "2025-10-18T09:30",
        "inside-birat",
        "Inside Birat: rationed bread and a single working clinic",
        "Youssef Amari",
        "birat-convoy",
        paras(
            """The flour delivered by last week's convoy is already running low in Birat, where families queue before
        dawn for a daily ration of two flat loaves per person.""",
            """The siege imposed by regime forces in June has cut the town off from its fields and from the market in
        Qalmira city. Prices of sugar and cooking oil have tripled, residents said.""",
            """At the clinic in the old market, Dr Salma Nour treats up to 150 patients a day with medicines that, she
        says, would last a normal clinic a week. The surgical kits removed from the convoy by regime inspectors
        were "exactly what we needed", she said.""",
            """Opposition fighters guard the warehouses where the aid is stored, and the local council publishes the
        distribution lists on the mosque wall.""",
            """The World Relief Agency has asked for access for a second convoy.""",
        ),
    ),
    Story(
        "courier",
        "2025-11-04T13:45",
        "opposition-demands",
        "Opposition delegation sets out its demands in Castelbrun",
        "Dana Mercer",
        "castelbrun-talks",
        paras(
            """The opposition delegation at the Castelbrun talks has set out three demands: the release of detainees,
        an end to the siege of Birat and guarantees for civilians returning to Tel Ashara.""",
            """Delegation head Layla Mansour said the regime had spent the first day refusing to discuss anything but
        the surrender of opposition fighters. "We did not come here to sign our own defeat," she said.""",
            """The delegation includes representatives of the rebel coalition, local councils and families of the
        disappeared. Mansour said more than 9,000 people are missing in Qalmira province.""",
            """Contact Group envoy Marta Lindqvist is carrying messages between the two rooms. Diplomats expect the
        talks to last three weeks.""",
            """Regime negotiator Samir Qadri has described the opposition as representing "foreign interests".""",
        ),
    ),
    Story(
        "courier",
        "2025-11-15T10:20",
        "families-cautious",
        "Families of detainees cautious over prisoner-swap deal",
        "Youssef Amari",
        "prisoner-exchange",
        paras(
            """Families of people held in regime prisons reacted with cautious hope to the exchange agreed in
        Castelbrun on Friday, under which 400 detainees are to be freed in return for 200 people held by opposition
        groups.""",
            """"Four hundred is a number. We want names," said Rana, whose brother was arrested at a checkpoint in 2019.
        She has not seen him since.""",
            """Rights groups say thousands of those detained in the province were never charged and that many were held
        for peaceful activism. The opposition delegation says it will publish the list once the regime confirms
        it.""",
            """Rebel commanders said they would release captured soldiers under the supervision of the World Relief
        Agency.""",
            """The exchange is due to take place in stages over four weeks.""",
        ),
    ),
    Story(
        "courier",
        "2025-11-22T09:00",
        "rebels-accuse-regime",
        "Rebels accuse regime of stalling as Castelbrun talks break up",
        "Dana Mercer",
        "castelbrun-talks",
        paras(
            """The Castelbrun talks ended on Friday without agreement after the opposition delegation left the final
        session, accusing the regime of refusing to discuss the siege of Birat.""",
            """"We offered a timetable for withdrawals in return for a timetable for lifting the siege. They refused
        even to read it," delegation head Layla Mansour said.""",
            """Opposition fighters in the north said the outcome confirmed their doubts about the process. Commanders
        said they would respect the ceasefire but were preparing for a new regime offensive.""",
            """The prisoner exchange agreed last week is the only result of three weeks of talks. Envoy Marta Lindqvist
        said she hoped to reconvene the delegations in January.""",
            """In Birat, residents said the news was met with silence. "We hoped Castelbrun would open the road. Now we
        wait again," said a shopkeeper reached by telephone.""",
        ),
    ),
]

# --------------------------------------------------------------------------------------------------------------
# Northern Ledger: Western mainstream ("militants", "insurgents", "jihadist", "government troops").
# --------------------------------------------------------------------------------------------------------------
LEDGER = [
    Story(
        "ledger",
        "2025-09-06T06:30",
        "army-pushes-toward-tel-ashara",
        "Sarvanian army pushes toward militant-held Tel Ashara",
        "Tom Ashworth",
        "tel-ashara-offensive",
        paras(
            """Government troops backed by tanks and artillery pushed toward the militant-held town of Tel Ashara on
        Friday, in the biggest offensive in northern Sarvania for two years.""",
            """The town has been controlled since 2021 by the Northern Highlands Alliance, a loose coalition of
        insurgent groups ranging from former army defectors to Islamist militias. Military analysts say the
        alliance has struggled to hold territory since it lost foreign funding last year.""",
            """Residents reported heavy shelling of the town's southern districts. The insurgents say civilian homes
        have been hit; the government says it targets only militant positions.""",
            """"Tel Ashara matters because of the road," said Anna Brecht, a researcher at the Institute for Conflict
        Studies. "Whoever holds it controls trade with the border.\"""",
            """The Crescent Banner group, a jihadist faction that operates near the town, has not joined the fighting
        so far.""",
        ),
    ),
    Story(
        "ledger",
        "2025-09-11T19:00",
        "analysis-tel-ashara",
        "Analysis: what the fall of Tel Ashara means for the insurgency",
        "Claire Hudson",
        "tel-ashara-offensive",
        paras(
            """The loss of Tel Ashara is the heaviest blow to Sarvania's insurgency in two years. The militants withdrew
        without a final battle, but they have lost the road that funded much of their operations.""",
            """For the government, the capture reopens the northern highway and strengthens its hand before any talks.
        For the insurgents, the question is whether the Northern Highlands Alliance can hold together. Several of
        its factions have already blamed each other for the withdrawal.""",
            """Analysts warn that the more extreme militants, notably the jihadist Crescent Banner group, may gain
        recruits from disillusioned fighters.""",
            """There is also a humanitarian cost. Aid agencies say thousands of people fled the fighting, and the town
        is badly damaged.""",
            """Diplomats from the three-country Contact Group say they will use the pause in fighting to press for a
        province-wide ceasefire.""",
        ),
    ),
    Story(
        "ledger",
        "2025-09-21T23:00",
        "contact-group-brokers-truce",
        "Contact Group brokers Qalmira ceasefire after marathon session",
        "Tom Ashworth",
        "ceasefire",
        paras(
            """A ceasefire for Qalmira province was agreed on Sunday after a 14-hour session in which Contact Group
        envoy Marta Lindqvist shuttled between government officials and insurgent representatives.""",
            """The truce, which starts at midnight, freezes the front lines and commits both sides to allow aid into
        besieged areas. It does not cover the Crescent Banner group, a jihadist militia that the government and
        the mainstream insurgents both regard as a threat.""",
            """Diplomats said the deal was helped by exhaustion on both sides after the battle for Tel Ashara. "Neither
        the army nor the militants can afford another offensive this year," one said.""",
            """Previous truces in 2023 and 2024 broke down within weeks. A joint committee will record violations this
        time, though it has no power to enforce the terms.""",
            """Lindqvist described the agreement as "a first step, and a fragile one".""",
        ),
    ),
    Story(
        "ledger",
        "2025-10-01T17:40",
        "truce-frays-birat",
        "Truce frays as militants and troops trade fire near Birat",
        "Claire Hudson",
        "ceasefire",
        paras(
            """Militants and government troops exchanged fire near the besieged town of Birat on Wednesday, the first
        significant breach of the Qalmira ceasefire since it began ten days ago.""",
            """The army said insurgents attacked a checkpoint on the Birat road, wounding three soldiers. The
        Northern Highlands Alliance said troops had shelled farmland and killed two of its men.""",
            """Monitors could not establish who fired first. Western diplomats said they were concerned that the
        clashes could derail a planned aid delivery to the town, where some 25,000 people have been cut off since
        June.""",
            """The insurgents have accused the government of using the siege to force Birat's surrender; officials say
        the militants are preventing civilians from leaving.""",
            """The Contact Group called for restraint.""",
        ),
    ),
    Story(
        "ledger",
        "2025-10-10T08:15",
        "convoy-a-start",
        "Aid workers say Birat convoy was 'a start, not a solution'",
        "Tom Ashworth",
        "birat-convoy",
        paras(
            """The aid convoy that reached Birat on Thursday after a three-day delay will feed the town for about two
        weeks, aid workers said, warning that one delivery could not make up for months of siege.""",
            """"It is a start, not a solution," said Helena Okafor of the World Relief Agency. Inspectors at the
        government checkpoint removed surgical kits and anaesthetics from the trucks, she said.""",
            """Inside the town, distribution was overseen by a local council linked to the insurgent coalition.
        Government officials say aid has previously been diverted to militants, an allegation the council denies.""",
            """The delay has become a test of the ceasefire. Diplomats say a second convoy this month would show the
        truce can deliver more than a pause in fighting.""",
            """The agency says it has requested regular weekly access.""",
        ),
    ),
    Story(
        "ledger",
        "2025-10-29T07:50",
        "second-convoy-jihadists",
        "Second convoy reaches Birat as jihadist faction blamed for delay",
        "Claire Hudson",
        "birat-convoy",
        paras(
            """A second aid convoy entered Birat on Tuesday, a day late after gunfire near the road that monitors blamed
        on the jihadist Crescent Banner group.""",
            """The hardline militants, who are not party to the Qalmira ceasefire, attacked an army post close to the
        convoy route, according to the Qalmira Monitoring Network. The group has not commented.""",
            """The inspection at the government checkpoint took about five hours this time, compared with three days in
        early October. Aid workers said surgical supplies were allowed through.""",
            """Analysts say the Crescent Banner group may try to wreck the truce, which it sees as a betrayal by the
        mainstream insurgents. Its fighters number a few hundred but are well armed.""",
            """Aid agencies have called for regular access rather than one-off deliveries.""",
        ),
    ),
    Story(
        "ledger",
        "2025-11-02T18:00",
        "who-is-at-the-table",
        "Who is at the table in Castelbrun?",
        "Tom Ashworth",
        "castelbrun-talks",
        paras(
            """Talks between Sarvania's government and the insurgent coalition open in Castelbrun on Monday. Here is who
        will be there, and who will not.""",
            """The government delegation is led by Deputy Foreign Minister Samir Qadri, a career diplomat known for
        hard bargaining. It wants to discuss security and the withdrawal of militants from border towns.""",
            """The opposition is led by Layla Mansour, a lawyer and former political prisoner. Her delegation includes
        commanders of the Northern Highlands Alliance and representatives of local councils. Its priorities are
        detainees and the siege of Birat.""",
            """The jihadist Crescent Banner group was not invited, and neither side wants it there. Analysts say it
        could act as a spoiler on the ground.""",
            """The talks are chaired by Contact Group envoy Marta Lindqvist.""",
        ),
    ),
    Story(
        "ledger",
        "2025-11-14T20:30",
        "prisoner-swap-agreed",
        "Prisoner swap agreed in first concrete result of Castelbrun talks",
        "Claire Hudson",
        "prisoner-exchange",
        paras(
            """Sarvania's government and insurgent groups agreed on Friday to swap 600 prisoners, the first tangible
        outcome of the Castelbrun talks.""",
            """The government will free 400 detainees and the militants 200 captives, most of them soldiers, envoy
        Marta Lindqvist announced. The World Relief Agency will oversee the exchange over four weeks.""",
            """Both sides presented the deal as a humanitarian step. Diplomats said it was also a test of whether the
        delegations could implement anything they agree.""",
            """Human rights groups welcomed the swap but said it covers a small fraction of the thousands detained or
        missing in Qalmira province.""",
            """Talks on security arrangements, the harder issue, continue next week. Officials on both sides privately
        doubt that a deal on the withdrawal of militants from border towns can be reached before the winter.""",
        ),
    ),
    Story(
        "ledger",
        "2025-11-21T21:15",
        "talks-adjourn",
        "Castelbrun talks adjourn without date for next round",
        "Tom Ashworth",
        "castelbrun-talks",
        paras(
            """The Castelbrun talks on Sarvania adjourned on Friday with no agreement on security and no date for a new
        round, after the insurgent delegation left the final session.""",
            """Opposition negotiator Layla Mansour said the government would not discuss lifting the siege of Birat.
        Government negotiator Samir Qadri said the militants had walked away from the table.""",
            """Envoy Marta Lindqvist said "significant gaps remain" but pointed to the prisoner exchange as evidence
        that the process could produce results.""",
            """Analysts said both sides would now test the ceasefire on the ground. "The risk is that the insurgents
        and the army read the adjournment as permission to prepare for the next fight," said Anna Brecht of the
        Institute for Conflict Studies.""",
            """Lindqvist hopes to reconvene the talks in January.""",
        ),
    ),
]

# --------------------------------------------------------------------------------------------------------------
# A small CSV for the CSV import demo (one text holds a comma, double quotes and a newline) and three .txt files.
# --------------------------------------------------------------------------------------------------------------
CSV_STORIES = [
    Story(
        "wire",
        "2025-11-26T10:00",
        "first-release-exchange",
        "First detainees freed under Castelbrun exchange",
        "Marek Novak",
        "prisoner-exchange",
        paras(
            """Fifty detainees held by the government and 25 soldiers held by armed groups were freed on Wednesday in the
        first stage of the exchange agreed in Castelbrun, the World Relief Agency said. Relatives waited at a
        crossing point south of Birat, witnesses said.""",
            """"We saw him walk across the line, thinner, but alive," said one woman, whose son was among those
        released.""",
        ),
    ),
    Story(
        "herald",
        "2025-11-26T19:30",
        "soldiers-return",
        "Soldiers freed from terrorist captivity return home",
        "Rami Haddad",
        "prisoner-exchange",
        paras(
            """Twenty-five soldiers freed from the prisons of the Takfiri terrorists returned to Qalmira city on
        Wednesday, where crowds greeted them as heroes.""",
            """Officials said the state had released detainees as a humanitarian gesture and would not rest until every
        abductee held by the terrorists is free.""",
        ),
    ),
    Story(
        "courier",
        "2025-11-26T18:00",
        "detainees-freed",
        "Fifty detainees walk free from regime prisons",
        "Youssef Amari",
        "prisoner-exchange",
        paras(
            """Fifty people held in regime prisons, some for more than five years, were freed on Wednesday. Rebel
        commanders handed over 25 captured soldiers at the same crossing.""",
            """Families said several of those released could barely walk.""",
        ),
    ),
    Story(
        "ledger",
        "2025-11-27T07:00",
        "swap-begins",
        "Sarvania prisoner swap begins with 75 releases",
        "Claire Hudson",
        "prisoner-exchange",
        paras(
            """The first 75 prisoners were exchanged on Wednesday between Sarvania's government and insurgent groups,
        a small but symbolic step after the Castelbrun talks.""",
            """Aid workers said the handover, supervised by the World Relief Agency, went smoothly.""",
        ),
    ),
    Story(
        "wire",
        "2025-12-02T09:10",
        "envoy-visits-qalmira",
        "Envoy visits Qalmira, says ceasefire 'largely holding'",
        "Priya Raman",
        "ceasefire",
        paras(
            """Contact Group envoy Marta Lindqvist visited Qalmira city on Tuesday and said the ceasefire was "largely
        holding", despite incidents near Birat.""",
            """She met Governor Nabil Saadeh and, separately, members of local councils from areas held by armed groups.""",
        ),
    ),
    Story(
        "ledger",
        "2025-12-03T08:20",
        "letter-from-birat",
        'Letter from Birat: "We count the days, the loaves, the trucks"',
        "Tom Ashworth",
        "birat-convoy",
        paras(
            """A teacher in Birat sent the Ledger this note, by message, on Tuesday: "We count the days, the loaves, the
        trucks. Some days, we count the shells.\"""",
            """Residents say a third convoy, promised for early December, has not yet been scheduled.""",
        ),
    ),
]

TXT_STORIES = [
    (
        "001_herald_highway_reopens.txt",
        "Northern highway reopens after liberation of Tel Ashara",
        paras(
            """Traffic returned to the northern highway on Saturday for the first time in four years, after the army
        liberated Tel Ashara from the Takfiri terrorists who had blocked the road to extort travellers.""",
            """Drivers said the journey from Qalmira city to the Hadir crossing now takes two hours instead of a day.""",
            """Army engineers continue to clear explosive devices left by the terrorists along the road.""",
        ),
    ),
    (
        "002_herald_schools_reopen.txt",
        "Schools reopen in liberated Tel Ashara",
        paras(
            """Four schools reopened in Tel Ashara on Sunday, weeks after the town was liberated from terrorist gangs
        that had used classrooms as weapons depots.""",
            """The education directorate said 1,200 pupils had registered and that more teachers would arrive from
        Qalmira city next week.""",
        ),
    ),
    (
        "003_herald_convoy_route.txt",
        "Army secures route for aid to Birat civilians",
        paras(
            """Army units secured the road to Birat on Monday so that a second aid convoy could reach civilians held
        hostage by foreign-sponsored terrorists inside the town.""",
            """A military source said the troops repelled an attack by the Takfiri Crescent Banner group near the
        route.""",
        ),
    ),
]
TXT_OUTLET = "The Levant Herald"


def build_records() -> list[dict]:
    """Every JSONL record in publication order, wire copies included."""
    wire_by_slug = {s.slug: s for s in WIRE}
    stories: list[Story] = [*WIRE, *HERALD, *COURIER, *LEDGER]
    for slug, outlet, title, edits in REPUBLISHED:
        source = wire_by_slug[slug]
        text = source.text
        for old, new in edits:
            if old not in text:
                raise ValueError(f"republished edit {old!r} not found in wire story {slug!r}")
            text = text.replace(old, new, 1)
        published = (datetime.fromisoformat(source.published) + timedelta(hours=2)).isoformat(timespec="minutes")
        byline = f"{source.byline} (Wire Service Daily)"
        extra = {"republished_from": source.external_id, "source_outlet": OUTLETS["wire"].name}
        stories.append(Story(outlet, published, slug, title, byline, source.topic, text, extra))
    records = [s.record() for s in stories]
    records.sort(key=lambda r: (r["published_at"][:10], r["outlet"], r["external_id"]))
    return records


def render_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


CSV_FIELDS = ["outlet", "title", "text", "url", "published_at", "external_id", "byline", "topic", "invented"]


def render_csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "invented": "true"})
    return buffer.getvalue()


def render_txt(title: str, body: str) -> str:
    return f"{title}\n{body}\n"


def expected_files() -> dict[Path, str]:
    """Path -> exact content of every generated file."""
    files = {
        SEEDS_DIR / "demo_corpus.jsonl": render_jsonl(build_records()),
        SEEDS_DIR / "demo_corpus.csv": render_csv([s.record() for s in CSV_STORIES]),
    }
    for name, title, body in TXT_STORIES:
        files[SEEDS_DIR / "demo_txt" / name] = render_txt(title, body)
    return files


def main() -> None:
    for path, content in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(SEEDS_DIR.parent)}")


if __name__ == "__main__":
    main()
