"""The sample territory: Saint-Aubin-sur-Loire, a commune of 2,300 inhabitants, and two years
of its participatory life. Plain data (see `model.py`); every person and place is fictional.

Moments are days before the demo runs. Keep each action after its author joined, supports
while the need is still open, and votes between their decision's opening and closing: the
fill goes through the node's services, which refuse anything else.
"""

from __future__ import annotations

from node.demo.model import (
    AmendmentSample,
    Announcement,
    Ballot,
    CircleSample,
    Comment,
    DecisionSample,
    EvaluationSample,
    ExperimentSample,
    IndicatorSample,
    KnowledgeSample,
    Membership,
    MilestoneSample,
    NeedSample,
    OfferSample,
    Person,
    ProposalSample,
    Sample,
    Territory,
    Trend,
    Triage,
)

TERRITORY = Territory(
    name="Saint-Aubin-sur-Loire",
    description=(
        "Commune de 2 300 habitant·es au bord de la Loire, entre vignes et bocage, à vingt "
        "minutes de Blois. Ici, les habitant·es expriment leurs besoins, les cercles en font "
        "des propositions, on décide ensemble et on expérimente. "
        "(Territoire d'exemple créé par `maillage demo` : personnes et projets fictifs.)"
    ),
)

PEOPLE = (
    Person(
        "camille",
        "camille-roux",
        "Camille Roux",
        830,
        "Camille Roux, 12 rue des Mariniers",
        "Infirmière à domicile et cycliste du quotidien. Je facilite le cercle Mobilités.",
        role="facilitator",
    ),
    Person(
        "mathieu",
        "mathieu-lefevre",
        "Mathieu Lefèvre",
        828,
        "Mathieu Lefèvre, ferme des Sablons",
        "Maraîcher bio à la ferme des Sablons. Je facilite le cercle Alimentation et jardins.",
        role="facilitator",
    ),
    Person(
        "nadia",
        "nadia-benali",
        "Nadia Benali",
        826,
        "Nadia Benali, 3 allée des Tilleuls",
        "Professeure des écoles à Jules-Ferry, maman de deux enfants.",
    ),
    Person(
        "jean-pierre",
        "jean-pierre-moreau",
        "Jean-Pierre Moreau",
        825,
        "M. Moreau, 8 route de Blois",
        "Retraité, ancien conducteur de car scolaire. Toujours partant pour conduire.",
    ),
    Person(
        "elodie",
        "elodie-garnier",
        "Élodie Garnier",
        822,
        "Élodie Garnier, résidence des Acacias",
        "Guide composteuse bénévole, jardinière de balcon.",
    ),
    Person(
        "thomas",
        "thomas-girard",
        "Thomas Girard",
        820,
        "Thomas Girard, 21 rue du Port",
        "Développeur en télétravail ; je dépanne volontiers ordinateurs et téléphones.",
    ),
    Person(
        "monique",
        "monique-chevalier",
        "Monique Chevalier",
        815,
        "Mme Chevalier, club des aînés",
        "Présidente du club des aînés de Saint-Aubin.",
    ),
    Person(
        "fatou",
        "fatou-diallo",
        "Fatou Diallo",
        812,
        "Fatou Diallo, 5 impasse des Vignes",
        "Aide-soignante à l'EHPAD Les Tilleuls.",
    ),
    Person(
        "sophie",
        "sophie-marchand",
        "Sophie Marchand",
        700,
        "Sophie Marchand, boulangerie de la place",
        "Boulangère place de l'Église : mon pain est au levain et à la farine du coin.",
    ),
    Person(
        "lucas",
        "lucas-bernard",
        "Lucas Bernard",
        640,
        "Lucas Bernard, 2 rue des Mariniers",
        "Étudiant à Tours, réparateur de vélos à mes heures.",
    ),
    Person(
        "karim",
        "karim-haddad",
        "Karim Haddad",
        520,
        "Famille Haddad, 14 rue du Port",
        "Contrôleur à la SNCF, papa de deux écoliers.",
    ),
    Person(
        "hugo",
        "hugo-fontaine",
        "Hugo Fontaine",
        450,
        "Hugo Fontaine, résidence des Acacias",
        "Graphiste ; j'aimerais jardiner mais je vis au troisième étage.",
    ),
    Person(
        "lea",
        "lea-dubois",
        "Léa Dubois",
        380,
        "Léa Dubois, 9 chemin de la Cale",
        "Arrivée de Nantes l'an dernier, couturière et bricoleuse.",
    ),
    Person(
        "bernard",
        "bernard-perrin",
        "Bernard Perrin",
        120,
        "Bernard Perrin, conseiller municipal",
        "Conseiller municipal délégué à la transition écologique.",
    ),
)

CIRCLES = (
    CircleSample(
        key="food",
        slug="alimentation-jardins",
        name="Cercle Alimentation et jardins",
        kind="activity",
        mandate=(
            "Nourrir la commune au plus près : compost, jardins partagés, circuits courts et "
            "cantine. Le cercle anime les composteurs de quartier et les jardins, et reçoit "
            "les besoins sur l'alimentation."
        ),
        created_by="mathieu",
        days_ago=805,
        members=(
            Membership("mathieu", "facilitator", 805),
            Membership("elodie", "secretary", 804),
            Membership("nadia", "member", 803),
            Membership("monique", "member", 800),
            Membership("sophie", "member", 690),
            Membership("hugo", "member", 440),
        ),
    ),
    CircleSample(
        key="mobility",
        slug="mobilites",
        name="Cercle Mobilités",
        kind="working",
        mandate=(
            "Se déplacer à Saint-Aubin sans dépendre de la voiture : marche, vélo, covoiturage "
            "et transport solidaire. Le cercle reçoit les besoins de mobilité, rédige des "
            "propositions et suit leurs expérimentations."
        ),
        created_by="camille",
        days_ago=800,
        members=(
            Membership("camille", "facilitator", 800),
            Membership("jean-pierre", "member", 799),
            Membership("thomas", "member", 798),
            Membership("fatou", "member", 795),
            Membership("lucas", "member", 630),
            Membership("karim", "secretary", 510),
            Membership("lea", "member", 370),
        ),
    ),
)

NEEDS = (
    NeedSample(
        key="compost",
        author="elodie",
        title="Composter nos déchets de cuisine au cœur du bourg",
        text=(
            "En appartement ou sans jardin, on n'a nulle part où mettre nos épluchures : elles "
            "finissent dans la poubelle grise, collectée tous les quinze jours, qui sent mauvais "
            "l'été. Des composteurs partagés dans les quartiers régleraient ça et donneraient "
            "du compost aux jardins."
        ),
        theme="environment",
        place="Bourg, quartier de la Mairie",
        days_ago=815,
        supporters=("nadia", "mathieu", "monique", "thomas", "jean-pierre"),
        comments=(
            Comment(
                "mathieu",
                "Le jardin des Sablons prendrait tout le compost mûr : on en manque chaque "
                "printemps.",
                812,
            ),
        ),
        triage=Triage("assign", "mathieu", 802, circle="food"),
    ),
    NeedSample(
        key="bins",
        author="monique",
        title="Les poubelles débordent rue des Tilleuls en été",
        text=(
            "Avec la collecte tous les quinze jours, les bacs de la résidence des Tilleuls "
            "débordent en juillet et en août, et les odeurs attirent les mouches."
        ),
        theme="environment",
        place="Rue des Tilleuls",
        days_ago=811,
        supporters=("fatou",),
        triage=Triage("merge", "mathieu", 801, into="compost"),
    ),
    NeedSample(
        key="market",
        author="jean-pierre",
        title="Aller au marché de Blois le samedi sans voiture",
        text=(
            "Depuis la suppression du car du samedi, les personnes sans voiture ne peuvent plus "
            "aller au marché ni à la pharmacie de garde de Blois. Beaucoup d'aîné·es restent "
            "chez eux tout le week-end."
        ),
        theme="mobility",
        place="Place de l'Église → Blois",
        days_ago=330,
        supporters=("monique", "fatou", "sophie", "camille", "lucas", "nadia", "thomas"),
        comments=(
            Comment(
                "monique",
                "Au club des aînés, une dizaine de personnes seraient intéressées, surtout "
                "l'hiver.",
                328,
            ),
        ),
        triage=Triage("assign", "camille", 322, circle="mobility"),
    ),
    NeedSample(
        key="doctor",
        author="fatou",
        title="Accompagner les aîné·es isolé·es à leurs rendez-vous médicaux",
        text=(
            "Plusieurs résident·es de l'EHPAD et des personnes âgées vivant seules renoncent à "
            "des consultations à Blois faute de transport. Un accompagnement régulier éviterait "
            "des hospitalisations."
        ),
        theme="health",
        place="EHPAD Les Tilleuls",
        days_ago=318,
        supporters=("monique", "jean-pierre", "karim"),
        triage=Triage("assign", "camille", 315, circle="mobility"),
    ),
    NeedSample(
        key="school",
        author="nadia",
        title="Sécuriser le chemin de l'école Jules-Ferry",
        text=(
            "Le matin, la rue du Port est encombrée de voitures garées sur le trottoir devant "
            "l'école. Les enfants qui viennent à pied ou à vélo passent entre les voitures, et "
            "plusieurs parents n'osent plus les laisser venir seuls."
        ),
        theme="mobility",
        place="Rue du Port, école Jules-Ferry",
        days_ago=120,
        supporters=("karim", "lea", "camille", "hugo", "thomas", "sophie", "lucas"),
        comments=(
            Comment("karim", "Un pédibus avec des parents volontaires serait un bon début.", 118),
            Comment(
                "lea", "Attention aussi à la sortie de 16 h 30 : c'est pire que le matin.", 116
            ),
        ),
        triage=Triage("assign", "camille", 112, circle="mobility"),
    ),
    NeedSample(
        key="garden",
        author="hugo",
        title="Un bout de terre pour jardiner quand on vit en appartement",
        text=(
            "À la résidence des Acacias, personne n'a de jardin. Quelques parcelles partagées "
            "près du bourg permettraient de cultiver des légumes et de se rencontrer."
        ),
        theme="food",
        place="Résidence des Acacias",
        days_ago=200,
        supporters=("sophie", "lea", "nadia", "elodie"),
        comments=(
            Comment(
                "elodie",
                "La parcelle communale derrière la ferme des Sablons est en friche depuis des "
                "années.",
                197,
            ),
        ),
        triage=Triage("assign", "mathieu", 190, circle="food"),
    ),
    NeedSample(
        key="lighting",
        author="lucas",
        title="Réparer l'éclairage du passage sous la voie ferrée",
        text=(
            "Le passage souterrain de la gare est dans le noir depuis l'automne : deux "
            "luminaires sur trois sont en panne et on ne s'y sent pas en sécurité le soir."
        ),
        theme="public_space",
        place="Passage souterrain de la gare",
        days_ago=420,
        supporters=("thomas", "karim", "fatou", "jean-pierre"),
        triage=Triage(
            "answer",
            "camille",
            404,
            answer=(
                "Signalé aux services techniques de la mairie : les luminaires du passage ont "
                "été remplacés par des lampes LED la semaine dernière. Merci pour le signalement !"
            ),
        ),
    ),
    NeedSample(
        key="bikes",
        author="thomas",
        title="Des arceaux à vélos abrités près de la gare",
        text=(
            "Pour prendre le TER à vélo, il faudrait pouvoir attacher son vélo à l'abri de la "
            "pluie. Aujourd'hui les vélos sont attachés aux grilles et se font voler."
        ),
        theme="mobility",
        place="Gare TER",
        days_ago=240,
        supporters=("lucas", "karim", "camille", "lea"),
        triage=Triage("assign", "camille", 230, circle="mobility"),
    ),
    NeedSample(
        key="canteen",
        author="sophie",
        title="Plus de produits locaux à la cantine",
        text=(
            "La cantine sert des légumes qui viennent de loin alors que trois fermes de la "
            "commune en produisent. Les enfants mangeraient mieux et l'argent resterait ici."
        ),
        theme="food",
        place="Restaurant scolaire",
        days_ago=150,
        supporters=("nadia", "mathieu", "hugo", "lea", "elodie"),
        comments=(
            Comment(
                "mathieu",
                "Les trois fermes pourraient fournir légumes et fromages si les commandes sont "
                "regroupées chaque semaine.",
                147,
            ),
        ),
        triage=Triage("assign", "mathieu", 140, circle="food"),
    ),
    NeedSample(
        key="repair",
        author="lea",
        title="Un repair café une fois par mois",
        text=(
            "Un lieu où réparer ensemble vélos, petits appareils et vêtements plutôt que de "
            "jeter : chacun apporte ses compétences et ses outils."
        ),
        theme="social_ties",
        place="Salle des associations",
        days_ago=45,
        supporters=("lucas", "hugo", "monique", "bernard"),
        comments=(
            Comment("lucas", "Je peux tenir l'atelier vélos !", 44),
            Comment(
                "monique", "La salle des associations est libre le premier samedi du mois.", 40
            ),
        ),
    ),
    NeedSample(
        key="shade",
        author="karim",
        title="De l'ombre dans la cour de l'école maternelle",
        text=(
            "La cour de la maternelle est entièrement goudronnée : en juin il y fait plus de "
            "35 °C. Des arbres ou des voiles d'ombrage protégeraient les petits."
        ),
        theme="environment",
        place="École maternelle des Coquelicots",
        days_ago=20,
        supporters=("nadia", "lea"),
    ),
    NeedSample(
        key="benches",
        author="monique",
        title="Des bancs le long des quais de Loire",
        text="Pour que les aîné·es puissent se promener sur les quais et faire une pause.",
        theme="public_space",
        place="Quai de la Loire",
        days_ago=6,
        supporters=("jean-pierre",),
        comments=(
            Comment(
                "jean-pierre",
                "Entre le pont et la cale, il n'y a aucun endroit pour s'asseoir.",
                5,
            ),
        ),
    ),
)

PROPOSALS = (
    ProposalSample(
        key="compost",
        circle="food",
        author="elodie",
        title="Composteurs partagés dans les quartiers",
        summary="Six composteurs partagés, animés par des guides composteurs bénévoles.",
        text=(
            "Installer six composteurs partagés (bourg, Tilleuls, Acacias, Port, Vignes, "
            "Sablons), fournis par la communauté de communes.\n\n"
            "Former une douzaine de guides composteurs bénévoles qui assurent les permanences "
            "et le retournement. Le compost mûr va aux jardins et aux habitant·es qui le "
            "demandent.\n\nDurée : deux ans d'expérimentation, puis évaluation."
        ),
        theme="environment",
        needs=("compost",),
        days_ago=796,
        comments=(
            Comment(
                "monique",
                "Pensez à un composteur près de la résidence des Tilleuls : beaucoup de "
                "personnes âgées y vivent.",
                794,
            ),
        ),
        deliberation=("mathieu", 787),
        decision=DecisionSample(
            question="Installer six composteurs partagés pendant deux ans, à titre d'essai ?",
            method="consent",
            quorum=0.25,
            opened_by="mathieu",
            opens_days_ago=785,
            closes_days_ago=771,
            ballots=(
                Ballot("mathieu", "consent", 784.9),
                Ballot("elodie", "consent", 784.5),
                Ballot("nadia", "consent", 784),
                Ballot("camille", "consent", 783),
                Ballot("thomas", "consent", 782),
                Ballot("monique", "consent", 780),
                Ballot(
                    "jean-pierre",
                    "abstain",
                    778,
                    "Je n'ai pas de jardin, mais pas d'objection : allez-y.",
                ),
                Ballot("fatou", "consent", 775),
            ),
        ),
    ),
    ProposalSample(
        key="shuttle",
        circle="mobility",
        author="camille",
        title="Navette solidaire du samedi",
        summary="Une navette conduite par des bénévoles vers le marché et les services de Blois.",
        text=(
            "Chaque samedi matin, une navette de neuf places prêtée par la mairie relie le "
            "bourg, les hameaux et l'EHPAD au marché et à la pharmacie de Blois.\n\n"
            "Elle est conduite à tour de rôle par des bénévoles ; on réserve la veille par "
            "téléphone à la mairie ou sur le nœud. Les trajets vers des rendez-vous médicaux "
            "en semaine sont possibles quand un·e bénévole est disponible.\n\n"
            "Durée : un an d'expérimentation, puis évaluation."
        ),
        theme="mobility",
        needs=("market", "doctor"),
        days_ago=308,
        comments=(
            Comment(
                "fatou",
                "Les soignantes de l'EHPAD peuvent orienter les résident·es qui en ont besoin.",
                305,
            ),
        ),
        deliberation=("camille", 292),
        decision=DecisionSample(
            question="Lancer une navette solidaire le samedi matin pendant un an ?",
            method="majority",
            quorum=0.3,
            opened_by="camille",
            opens_days_ago=290,
            closes_days_ago=276,
            ballots=(
                Ballot("camille", "for", 289.9),
                Ballot("jean-pierre", "for", 289.5),
                Ballot("monique", "for", 289),
                Ballot("fatou", "for", 288),
                Ballot("karim", "for", 287),
                Ballot("lucas", "for", 285),
                Ballot("sophie", "for", 284),
                Ballot("nadia", "for", 283),
                Ballot(
                    "thomas",
                    "against",
                    281,
                    "Je préférerais développer d'abord le covoiturage : une navette coûte cher "
                    "en assurance.",
                ),
                Ballot("hugo", "abstain", 279),
            ),
        ),
    ),
    ProposalSample(
        key="school-street",
        circle="mobility",
        author="karim",
        title="Pédibus et rue scolaire devant l'école Jules-Ferry",
        summary="Fermer la rue du Port aux voitures aux heures d'école et lancer un pédibus.",
        text=(
            "Fermer la rue du Port aux voitures quinze minutes à l'entrée et à la sortie de "
            "l'école, avec des barrières amovibles tenues par des parents volontaires.\n\n"
            "Lancer deux lignes de pédibus (depuis la gare et depuis les Acacias), "
            "accompagnées à tour de rôle par des parents et des aîné·es.\n\n"
            "Bilan avec l'école et les riverain·es après trois mois."
        ),
        theme="mobility",
        needs=("school",),
        days_ago=105,
        comments=(
            Comment("lea", "Je peux accompagner la ligne des Acacias le mardi et le jeudi.", 100),
            Comment(
                "hugo",
                "Pour le pédibus, mais fermer la rue va reporter les voitures sur la rue des "
                "Écoles.",
                20,
            ),
        ),
        deliberation=("camille", 14),
        decision=DecisionSample(
            question="Rue scolaire aux heures d'école et pédibus devant Jules-Ferry ?",
            method="majority",
            quorum=0.25,
            opened_by="camille",
            opens_days_ago=9,
            closes_days_ago=-5,
            ballots=(
                Ballot("karim", "for", 8.8),
                Ballot("nadia", "for", 8.5),
                Ballot("lea", "for", 7.2),
                Ballot("camille", "for", 6),
                Ballot("hugo", "against", 4, "Il faut d'abord un plan pour la rue des Écoles."),
                Ballot("sophie", "abstain", 2.5),
            ),
        ),
    ),
    ProposalSample(
        key="gardens",
        circle="food",
        author="hugo",
        title="Jardins partagés sur la parcelle des Sablons",
        summary="Douze parcelles partagées sur le terrain communal en friche des Sablons.",
        text=(
            "Aménager la parcelle communale des Sablons (2 000 m²) en douze jardins partagés, "
            "avec un abri à outils commun et un point d'eau.\n\n"
            "Les parcelles sont attribuées pour un an aux foyers sans jardin, en priorité "
            "aux résidences des Acacias et des Tilleuls."
        ),
        theme="food",
        needs=("garden",),
        days_ago=60,
        comments=(
            Comment(
                "elodie",
                "Le composteur des Sablons est juste à côté : le compost sera sur place.",
                50,
            ),
        ),
        amendments=(
            AmendmentSample(
                author="nadia",
                text=(
                    "Aménager la parcelle communale des Sablons (2 000 m²) en douze jardins "
                    "partagés, dont deux bacs surélevés accessibles en fauteuil et une parcelle "
                    "pour l'école, avec un abri à outils commun et un point d'eau.\n\n"
                    "Les parcelles sont attribuées pour un an aux foyers sans jardin, en "
                    "priorité aux résidences des Acacias et des Tilleuls."
                ),
                rationale=(
                    "Pour que les personnes à mobilité réduite et les classes puissent "
                    "jardiner aussi."
                ),
                days_ago=45,
                accepted_by="mathieu",
                accepted_days_ago=30,
                note="Accepté en réunion de cercle : bonne idée, la mairie fournit les bacs.",
            ),
            AmendmentSample(
                author="sophie",
                text=(
                    "Aménager la parcelle communale des Sablons (2 000 m²) en douze jardins "
                    "partagés, dont deux bacs surélevés accessibles en fauteuil et une parcelle "
                    "pour l'école, avec un abri à outils commun et des récupérateurs d'eau de "
                    "pluie plutôt qu'un raccordement au réseau.\n\n"
                    "Les parcelles sont attribuées pour un an aux foyers sans jardin, en "
                    "priorité aux résidences des Acacias et des Tilleuls."
                ),
                rationale="L'eau de pluie suffit la plupart de l'année et ne coûte rien.",
                days_ago=12,
            ),
        ),
    ),
)

COMPOST_LESSONS = (
    "Les six composteurs ont trouvé leur public : près de 190 foyers y apportent leurs "
    "biodéchets, bien au-delà des 150 visés, et les ordures ménagères résiduelles ont baissé "
    "d'environ 16 %.\n\n"
    "Ce qui a marché : les guides composteurs bénévoles (une permanence par semaine et par "
    "site), les bioseaux distribués à l'inscription et les fêtes du compost au printemps.\n\n"
    "Ce qui a coincé : le composteur du Port, trop loin des logements, a été déplacé au bout "
    "de six mois ; l'été, il faut davantage de matière sèche (broyat) pour éviter les odeurs.\n\n"
    "Recommandation : généraliser à toute la commune avec trois sites de plus, et prévoir "
    "une livraison de broyat par les services techniques chaque mois."
)

EXPERIMENTS = (
    ExperimentSample(
        proposal="compost",
        facilitator="mathieu",
        title="Composteurs de quartier",
        hypothesis=(
            "Si chaque quartier du bourg dispose d'un composteur partagé animé par des guides "
            "composteurs bénévoles, les foyers sans jardin composteront leurs biodéchets et "
            "les ordures ménagères résiduelles baisseront d'au moins 15 %."
        ),
        created_days_ago=745,
        starts_days_ago=730,
        duration_days=669,
        start_note="Les six composteurs sont installés : c'est parti !",
        indicators=(
            IndicatorSample(
                name="Foyers participants",
                unit="foyers",
                baseline=0,
                target=150,
                direction="increase",
                trend=Trend(start=24, end=188, noise=0.025),
                notes=((0, "Inscriptions à la fête de lancement"), (6, "Site du Port déplacé")),
            ),
            IndicatorSample(
                name="Biodéchets apportés aux composteurs",
                unit="kg/mois",
                baseline=0,
                target=1500,
                direction="increase",
                trend=Trend(start=190, end=1640, seasonal=0.18, peak_month=6, digits=-1),
            ),
            IndicatorSample(
                name="Ordures ménagères résiduelles",
                unit="kg/hab/mois",
                baseline=16.5,
                target=14,
                direction="decrease",
                trend=Trend(
                    start=16.1, end=13.8, seasonal=0.04, peak_month=12, noise=0.02, digits=1
                ),
            ),
        ),
        milestones=(
            MilestoneSample("Installation des six composteurs", 0, -3),
            MilestoneSample("Formation de douze guides composteurs", 60, 52),
            MilestoneSample("Bilan d'étape à un an en réunion publique", 365, 371),
            MilestoneSample("Fête du compost et distribution de compost mûr", 540, 546),
            MilestoneSample("Bilan final et évaluation", 669, 672),
        ),
        progress=100,
        months_measured=23,
        evaluating_days_ago=58,
        evaluating_note="Deux ans de mesures : place au bilan.",
        evaluation=EvaluationSample(
            by="mathieu",
            days_ago=45,
            outcome="success",
            lessons=COMPOST_LESSONS,
            recommendation="generalise",
        ),
    ),
    ExperimentSample(
        proposal="shuttle",
        facilitator="camille",
        title="Navette solidaire du samedi",
        hypothesis=(
            "Une navette conduite par des bénévoles le samedi matin vers le marché et les "
            "services de Blois rompra l'isolement des personnes sans voiture : au moins 120 "
            "trajets par mois au bout d'un an."
        ),
        created_days_ago=262,
        starts_days_ago=243,
        duration_days=365,
        start_note="Premier samedi : 9 passager·es et 4 chauffeur·ses.",
        indicators=(
            IndicatorSample(
                name="Trajets effectués",
                unit="trajets/mois",
                baseline=0,
                target=120,
                direction="increase",
                trend=Trend(start=22, end=104, shape="linear", noise=0.07),
                notes=((3, "Arrêt ajouté à l'EHPAD"),),
            ),
            IndicatorSample(
                name="Chauffeur·ses bénévoles",
                unit="personnes",
                baseline=0,
                target=12,
                direction="increase",
                trend=Trend(start=4, end=10, shape="linear", noise=0.05),
            ),
        ),
        milestones=(
            MilestoneSample("Convention d'assurance signée avec la mairie", -14, -17),
            MilestoneSample("Premier trajet", 0, 0),
            MilestoneSample("Bilan à six mois en réunion publique", 183, 187),
            MilestoneSample("Bilan final et évaluation", 365),
        ),
        progress=65,
        months_measured=8,
    ),
)

OFFERS = (
    OfferSample(
        author="lucas",
        purpose="offer",
        kind="lend",
        title="Remorque vélo à prêter",
        text=(
            "Remorque à deux roues, 40 kg de charge, attelage universel. Idéale pour le marché "
            "ou la déchetterie. À venir chercher, à rendre dans la semaine."
        ),
        days_ago=80,
        place="Rue des Mariniers",
        replies=(
            Comment(
                "jean-pierre", "Je vous l'emprunterais bien samedi pour la fête des jardins !", 75
            ),
        ),
    ),
    OfferSample(
        author="mathieu",
        purpose="offer",
        kind="give",
        title="Plants de tomates anciennes à donner",
        text=(
            "Une trentaine de plants (cœur de bœuf, noire de Crimée, ananas) à prendre à la "
            "ferme des Sablons. Venez avec un carton !"
        ),
        days_ago=25,
        place="Ferme des Sablons",
        replies=(Comment("hugo", "J'en prendrais trois pour mon balcon, merci !", 24),),
        outcome=("taken", 21, "Tous partis en trois jours, merci à tous !"),
    ),
    OfferSample(
        author="elodie",
        purpose="offer",
        kind="group_purchase",
        title="Achat groupé de pommes de terre de semence bio",
        text=(
            "Commande groupée auprès d'un producteur de Sologne : Charlotte, Chérie et Bintje, "
            "environ 1,80 € le kilo. Il faut atteindre 200 kg pour la livraison gratuite."
        ),
        days_ago=40,
        place="Livraison à la salle des associations",
        minimum_quantity=200,
        unit="kg",
        available_until=20,
        replies=(Comment("sophie", "Je prends 10 kg de Charlotte.", 38),),
    ),
    OfferSample(
        author="thomas",
        purpose="offer",
        kind="time_bank",
        title="Deux heures d'aide informatique par semaine",
        text=(
            "Installer une imprimante, faire ses démarches en ligne, trier ses photos : je "
            "donne deux heures par semaine, chez vous ou à la médiathèque."
        ),
        days_ago=55,
        place="Médiathèque ou à domicile",
        quantity=2,
    ),
    OfferSample(
        author="monique",
        purpose="request",
        kind="lend",
        title="Cherche un broyeur de végétaux pour un week-end",
        text="Pour broyer les tailles de haie du club des aînés et en faire du paillage.",
        days_ago=15,
        place="Club des aînés",
        available_from=3,
        available_until=30,
    ),
    OfferSample(
        author="lea",
        purpose="request",
        kind="give",
        title="Cherche des cartons de déménagement",
        text="Une vingtaine de cartons solides, même déjà servis.",
        days_ago=70,
        place="Chemin de la Cale",
        outcome=("closed", 50, "Trouvés grâce à la boulangerie, merci !"),
    ),
    OfferSample(
        author="jean-pierre",
        purpose="request",
        kind="time_bank",
        title="Un coup de main pour tailler une haie",
        text=(
            "Une haie de trente mètres à tailler avant l'hiver ; je fournis le taille-haie et "
            "le goûter."
        ),
        days_ago=10,
        place="Route de Blois",
        quantity=3,
    ),
    OfferSample(
        author="hugo",
        purpose="request",
        kind="group_purchase",
        title="Qui pour une commande groupée de bois de chauffage ?",
        text=(
            "Un exploitant de la forêt de Russy livre du chêne sec en un mètre, moins cher à "
            "partir de 30 stères commandés ensemble."
        ),
        days_ago=30,
        minimum_quantity=30,
        unit="stères",
        available_until=45,
    ),
)

ANNOUNCEMENTS = (
    Announcement(
        "Bienvenue sur le nœud de Saint-Aubin-sur-Loire ! Exprimez vos besoins, soutenez ceux "
        "des autres et rejoignez un cercle : ici, tout se décide en clair.",
        826,
    ),
    Announcement(
        "Réunion publique sur les mobilités jeudi à 20 h, salle des fêtes : venez parler "
        "navette, vélo et covoiturage.",
        335,
    ),
    Announcement(
        "Fête des jardins samedi prochain au jardin des Sablons : troc de plants, atelier "
        "compost et goûter partagé. Le vote sur la rue scolaire est ouvert jusqu'à la fin de "
        "la semaine prochaine : donnez votre avis !",
        7,
    ),
)

#: The commune's map (30 places, 40 actors, 60 flows), boundary, and 8 indicators with two years
#: of monthly observations (2024-11 to 2026-10): see territory_data/README.md.
KNOWLEDGE = KnowledgeSample(folder="territory_data", map_by="camille", indicators_by="mathieu")

SAMPLE = Sample(
    territory=TERRITORY,
    people=PEOPLE,
    circles=CIRCLES,
    needs=NEEDS,
    proposals=PROPOSALS,
    experiments=EXPERIMENTS,
    offers=OFFERS,
    announcements=ANNOUNCEMENTS,
    knowledge=KNOWLEDGE,
)
