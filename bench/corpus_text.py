"""What customers write, in the six shipped languages, for each of the five queues.

Why hand-written text instead of lorem ipsum: language detection and routing are part of the
cost being measured, and both behave differently on real sentences. Each topic uses words a
customer would use (and that config/routing.toml routes); `general` topics avoid them.
Filler sentences only ever appear in quoted history, which the service strips before routing.
"""

from __future__ import annotations

from dataclasses import dataclass

QUEUES = ("billing", "technical", "orders", "account", "general")


@dataclass(frozen=True)
class Language:
    code: str
    names: tuple[str, ...]
    greetings: tuple[str, ...]
    closings: tuple[str, ...]
    number: str  # how a customer number is written in a subject: keeps subjects unique
    wrote: str  # the attribution line above quoted history ({date}, {who})
    ooo_subject: str
    ooo_body: str
    filler: tuple[str, ...]
    topics: dict[str, tuple[tuple[str, str], ...]]  # queue -> ((subject, body), ...)


EN = Language(
    code="en",
    names=("Emma Clarke", "Oliver Bennett", "Sophie Turner", "James Whitaker", "Chloe Evans"),
    greetings=("Hello,", "Hi there,", "Dear support team,", "Good morning,"),
    closings=("Thanks,", "Kind regards,", "Best wishes,", "Many thanks in advance,"),
    number="customer no. {n}",
    wrote="On {date}, {who} wrote:",
    ooo_subject="Automatic reply: {subject}",
    ooo_body="I am out of the office until Monday with limited access to email. "
    "For urgent matters please call the front desk.",
    filler=(
        "Thank you for your patience while we looked into this for you.",
        "We have passed your message on to the team responsible, who will get back to you.",
        "If you have any further questions, simply reply to this email.",
        "Our opening hours are Monday to Friday, nine to six.",
        "We appreciate you taking the time to write to us.",
        "Please keep this email for your records.",
    ),
    topics={
        "billing": (
            (
                "I was charged twice for my subscription",
                "I just checked my bank statement and I was charged twice this month for the same "
                "subscription. Could you please refund the extra charge as soon as possible?",
            ),
            (
                "Invoice shows the wrong company name",
                "The invoice you sent me last week shows our old company name and no VAT number. "
                "Our accountant needs a corrected invoice before the end of the month.",
            ),
        ),
        "technical": (
            (
                "The app crashes when I open the camera",
                "Since the latest update the app crashes every time I try to scan a document. I "
                "already tried to reinstall it but it is still not working on my phone.",
            ),
            (
                "Export gives an error 500",
                "When I export my report as a spreadsheet I only get a blank page with error 500. "
                "It worked fine last week, so something must have changed after the update.",
            ),
        ),
        "orders": (
            (
                "My parcel has not arrived yet",
                "I placed an order two weeks ago and the parcel has still not arrived. The tracking "
                "page has not changed for days. Could you tell me where my package is?",
            ),
            (
                "Wrong size delivered",
                "The jacket was delivered today but it is the wrong size: I ordered a medium and "
                "received a large. How do I exchange it? Is there a return label?",
            ),
        ),
        "account": (
            (
                "Cannot log in to my account",
                "I cannot log in since yesterday. The password reset link in your email says it "
                "has expired, and I have asked for a new one three times already.",
            ),
            (
                "Please delete my account",
                "I no longer use your service. Please delete my account and all personal data you "
                "hold about me, and confirm once it is done.",
            ),
        ),
        "general": (
            (
                "Do you have a shop in Manchester?",
                "I would like to see the sofas in person before deciding. Do you have a showroom "
                "near Manchester, and is it open on Saturdays?",
            ),
            (
                "A big thank you to your team",
                "I just wanted to say that your colleague on the phone yesterday was wonderful. "
                "She was patient and friendly, and I will certainly recommend you to my friends.",
            ),
        ),
    },
)

ES = Language(
    code="es",
    names=("María García", "Javier López", "Lucía Fernández", "Carlos Martín", "Ana Romero"),
    greetings=(
        "Hola,",
        "Buenos días:",
        "Estimado equipo de atención al cliente:",
        "Buenas tardes,",
    ),
    closings=("Gracias,", "Un saludo,", "Saludos cordiales,", "Muchas gracias de antemano,"),
    number="cliente n.º {n}",
    wrote="El {date}, {who} escribió:",
    ooo_subject="Respuesta automática: {subject}",
    ooo_body="Estoy fuera de la oficina hasta el lunes y tengo acceso limitado al correo. "
    "Para asuntos urgentes llame a recepción.",
    filler=(
        "Gracias por su paciencia mientras revisamos su consulta.",
        "Hemos trasladado su mensaje al equipo responsable, que se pondrá en contacto con usted.",
        "Si tiene cualquier otra pregunta, responda simplemente a este correo.",
        "Nuestro horario de atención es de lunes a viernes, de nueve a seis.",
        "Le agradecemos que se haya tomado el tiempo de escribirnos.",
        "Conserve este correo para sus archivos.",
    ),
    topics={
        "billing": (
            (
                "Me han cobrado dos veces la factura",
                "He revisado mi cuenta bancaria y me han cobrado dos veces la factura de este mes. "
                "¿Pueden devolverme el importe duplicado cuanto antes?",
            ),
            (
                "Factura sin mi NIF",
                "La factura que me enviaron no incluye mi NIF ni el nombre de la empresa. Necesito "
                "una factura corregida para presentarla a mi gestor.",
            ),
        ),
        "technical": (
            (
                "La aplicación se cierra sola",
                "Desde la última actualización la aplicación se cierra sola cada vez que intento "
                "subir una foto. Ya la he desinstalado y vuelto a instalar, pero sigue sin funcionar.",
            ),
            (
                "Error al exportar el informe",
                "Al exportar el informe me aparece una página en blanco con un error 500. La semana "
                "pasada funcionaba bien.",
            ),
        ),
        "orders": (
            (
                "Mi pedido no ha llegado",
                "Hice un pedido hace dos semanas y todavía no me ha llegado. El seguimiento no se "
                "actualiza desde hace días. ¿Me pueden decir dónde está mi paquete?",
            ),
            (
                "Talla equivocada",
                "Hoy me ha llegado la chaqueta pero es la talla equivocada: pedí una M y me llegó una "
                "L. ¿Cómo hago el cambio de talla?",
            ),
        ),
        "account": (
            (
                "No puedo entrar en mi cuenta",
                "Desde ayer no puedo entrar en mi cuenta. El enlace para restablecer la contraseña "
                "dice que ha caducado y ya he pedido otro tres veces.",
            ),
            (
                "Quiero eliminar mi cuenta",
                "Ya no uso el servicio. Por favor, eliminen mi cuenta y todos mis datos personales y "
                "confírmenme cuando esté hecho.",
            ),
        ),
        "general": (
            (
                "¿Tienen tienda física en Valencia?",
                "Me gustaría ver los sofás en persona antes de decidirme. ¿Tienen una tienda o "
                "exposición cerca de Valencia? ¿Abren los sábados?",
            ),
            (
                "Felicitaciones a su equipo",
                "Solo quería decirles que la persona que me atendió ayer por teléfono fue muy amable "
                "y paciente. Les recomendaré a mis amigos.",
            ),
        ),
    },
)

NL = Language(
    code="nl",
    names=("Jan de Vries", "Sanne Jansen", "Pieter Bakker", "Lotte Visser", "Daan Smit"),
    greetings=("Hallo,", "Goedemorgen,", "Beste klantenservice,", "Goedemiddag,"),
    closings=("Bedankt,", "Met vriendelijke groet,", "Groeten,", "Alvast bedankt,"),
    number="klantnummer {n}",
    wrote="Op {date} schreef {who}:",
    ooo_subject="Automatisch antwoord: {subject}",
    ooo_body="Ik ben tot maandag afwezig en lees mijn e-mail beperkt. "
    "Bel voor dringende zaken de receptie.",
    filler=(
        "Bedankt voor uw geduld terwijl wij uw vraag bekeken.",
        "Wij hebben uw bericht doorgestuurd naar het verantwoordelijke team.",
        "Heeft u nog andere vragen, beantwoord dan gewoon deze e-mail.",
        "Wij zijn bereikbaar van maandag tot en met vrijdag, van negen tot zes.",
        "Fijn dat u de tijd heeft genomen om ons te schrijven.",
        "Bewaar deze e-mail voor uw administratie.",
    ),
    topics={
        "billing": (
            (
                "Dubbel afgeschreven deze maand",
                "Ik zie op mijn bankrekening dat het bedrag deze maand twee keer is afgeschreven. "
                "Kunt u het teveel betaalde bedrag terugstorten?",
            ),
            (
                "Factuur met verkeerde bedrijfsnaam",
                "Op de factuur van vorige week staat onze oude bedrijfsnaam en geen btw-nummer. Ik "
                "heb een gecorrigeerde factuur nodig.",
            ),
        ),
        "technical": (
            (
                "App loopt vast",
                "Sinds de laatste update loopt de app vast zodra ik een foto wil uploaden. Ik heb "
                "hem opnieuw geïnstalleerd, maar hij werkt nog steeds niet.",
            ),
            (
                "Foutmelding bij exporteren",
                "Bij het exporteren van het rapport krijg ik een leeg scherm met foutmelding 500. "
                "Vorige week ging het nog goed.",
            ),
        ),
        "orders": (
            (
                "Bestelling nog steeds niet ontvangen",
                "Ik heb twee weken geleden een bestelling geplaatst, maar het pakket is nog steeds "
                "niet bezorgd. Kunt u mij laten weten waar het blijft?",
            ),
            (
                "Verkeerde maat ontvangen",
                "Vandaag is de jas geleverd, maar in de verkeerde maat. Hoe kan ik hem omruilen?",
            ),
        ),
        "account": (
            (
                "Kan niet inloggen",
                "Ik kan sinds gisteren niet meer inloggen. De link om mijn wachtwoord te herstellen "
                "is verlopen en ik heb al drie keer een nieuwe aangevraagd.",
            ),
            (
                "Account verwijderen",
                "Ik gebruik de dienst niet meer. Wilt u mijn account verwijderen, samen met al mijn "
                "persoonsgegevens, en dat bevestigen?",
            ),
        ),
        "general": (
            (
                "Winkel in Utrecht?",
                "Ik wil de banken graag eerst in het echt zien. Heeft u een showroom in de buurt van "
                "Utrecht, en is die op zaterdag open?",
            ),
            (
                "Compliment voor uw medewerker",
                "Ik wilde even laten weten dat uw medewerker gisteren aan de telefoon heel vriendelijk "
                "en geduldig was. Ik raad u zeker aan bij vrienden.",
            ),
        ),
    },
)

DE = Language(
    code="de",
    names=("Anna Müller", "Lukas Schmidt", "Lea Schneider", "Felix Weber", "Marie Fischer"),
    greetings=("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Liebes Support-Team,"),
    closings=("Danke,", "Mit freundlichen Grüßen,", "Viele Grüße,", "Vielen Dank im Voraus,"),
    number="Kundennummer {n}",
    wrote="Am {date} schrieb {who}:",
    ooo_subject="Abwesenheitsnotiz: {subject}",
    ooo_body="Ich bin bis Montag nicht im Büro und lese meine E-Mails nur eingeschränkt. "
    "In dringenden Fällen wenden Sie sich bitte an den Empfang.",
    filler=(
        "Vielen Dank für Ihre Geduld, während wir Ihr Anliegen geprüft haben.",
        "Wir haben Ihre Nachricht an das zuständige Team weitergeleitet.",
        "Wenn Sie weitere Fragen haben, antworten Sie einfach auf diese E-Mail.",
        "Wir sind montags bis freitags von neun bis achtzehn Uhr für Sie da.",
        "Schön, dass Sie sich die Zeit genommen haben, uns zu schreiben.",
        "Bitte bewahren Sie diese E-Mail für Ihre Unterlagen auf.",
    ),
    topics={
        "billing": (
            (
                "Doppelt abgebucht",
                "Auf meinem Kontoauszug sehe ich, dass der Betrag diesen Monat zweimal abgebucht "
                "wurde. Bitte erstatten Sie mir die doppelte Abbuchung.",
            ),
            (
                "Rechnung fehlt",
                "Für meine letzte Zahlung habe ich keine Rechnung erhalten. Können Sie mir die "
                "Rechnung mit ausgewiesener Mehrwertsteuer schicken?",
            ),
        ),
        "technical": (
            (
                "App stürzt ab",
                "Seit dem Update stürzt die App jedes Mal ab, wenn ich ein Foto hochladen möchte. "
                "Ich habe sie neu installiert, aber sie funktioniert nicht.",
            ),
            (
                "Fehlermeldung beim Export",
                "Beim Export des Berichts bekomme ich nur eine leere Seite mit Fehler 500. Letzte "
                "Woche ging es noch.",
            ),
        ),
        "orders": (
            (
                "Paket nicht angekommen",
                "Ich habe vor zwei Wochen bestellt, aber das Paket ist immer noch nicht angekommen. "
                "Die Sendungsverfolgung zeigt seit Tagen nichts Neues.",
            ),
            (
                "Falsche Größe geliefert",
                "Die Jacke wurde heute geliefert, aber in der falschen Größe. Wie funktioniert der "
                "Umtausch?",
            ),
        ),
        "account": (
            (
                "Kundenkonto gesperrt",
                "Ich kann mich seit gestern nicht mehr anmelden, mein Kundenkonto ist gesperrt. Der "
                "Link zum Zurücksetzen des Passworts ist ungültig.",
            ),
            (
                "Konto löschen",
                "Ich nutze den Dienst nicht mehr. Bitte löschen Sie mein Konto und meine "
                "personenbezogene Daten und bestätigen Sie mir das.",
            ),
        ),
        "general": (
            (
                "Showroom am Samstag geöffnet?",
                "Ich würde mir die Sofas gern vor Ort ansehen. Haben Sie einen Showroom in der Nähe "
                "von Köln, und ist er samstags geöffnet?",
            ),
            (
                "Großes Lob",
                "Ich wollte nur sagen, dass Ihre Kollegin gestern am Telefon sehr freundlich und "
                "geduldig war. Ich empfehle Sie gern weiter.",
            ),
        ),
    },
)

FR = Language(
    code="fr",
    names=("Camille Dubois", "Louis Martin", "Léa Bernard", "Hugo Petit", "Manon Laurent"),
    greetings=("Bonjour,", "Madame, Monsieur,", "Bonjour à toute l'équipe,", "Bonsoir,"),
    closings=("Merci,", "Cordialement,", "Bien à vous,", "Merci d'avance,"),
    number="client n° {n}",
    wrote="Le {date}, {who} a écrit :",
    ooo_subject="Réponse automatique : {subject}",
    ooo_body="Je suis absente du bureau jusqu'à lundi et je consulte peu mes e-mails. "
    "Pour toute urgence, merci d'appeler l'accueil.",
    filler=(
        "Merci de votre patience pendant que nous examinions votre demande.",
        "Nous avons transmis votre message à l'équipe concernée.",
        "Pour toute autre question, il vous suffit de répondre à cet e-mail.",
        "Nous sommes joignables du lundi au vendredi, de neuf heures à dix-huit heures.",
        "Merci d'avoir pris le temps de nous écrire.",
        "Veuillez conserver cet e-mail.",
    ),
    topics={
        "billing": (
            (
                "Erreur sur ma facture",
                "Le montant de ma facture de ce mois est faux et j'ai été débité deux fois. "
                "Pouvez-vous me rembourser la différence ?",
            ),
            (
                "Prélèvement en double",
                "Je vois deux prélèvements pour le même abonnement sur mon compte. Merci de "
                "procéder au remboursement.",
            ),
        ),
        "technical": (
            (
                "L'application plante",
                "Depuis la mise à jour, l'application plante dès que j'essaie d'envoyer une photo. "
                "Je l'ai réinstallée mais elle ne fonctionne toujours pas.",
            ),
            (
                "Erreur 500 à l'export",
                "Quand j'exporte le rapport, j'obtiens une page blanche avec une erreur 500. Cela "
                "marchait la semaine dernière.",
            ),
        ),
        "orders": (
            (
                "Colis jamais reçu",
                "J'ai passé commande il y a deux semaines et je n'ai toujours pas reçu le colis. Le "
                "suivi ne bouge plus depuis plusieurs jours.",
            ),
            (
                "Échange de taille",
                "La veste a été livrée aujourd'hui mais ce n'est pas la bonne taille. Comment "
                "faire un échange ?",
            ),
        ),
        "account": (
            (
                "Impossible de me connecter",
                "Je n'arrive plus à me connecter depuis hier. Le lien pour réinitialiser mon mot de "
                "passe a expiré.",
            ),
            (
                "Supprimer mon compte",
                "Je n'utilise plus le service. Merci de supprimer mon compte et mes données "
                "personnelles, et de me le confirmer.",
            ),
        ),
        "general": (
            (
                "Magasin à Lyon ?",
                "J'aimerais voir les canapés en vrai avant de me décider. Avez-vous un magasin près "
                "de Lyon, ouvert le samedi ?",
            ),
            (
                "Un grand merci",
                "Je voulais simplement vous dire que votre collègue au téléphone hier a été très "
                "aimable et patiente. Je vous recommanderai à mes amis.",
            ),
        ),
    },
)

PT = Language(
    code="pt",
    names=("João Silva", "Beatriz Santos", "Pedro Oliveira", "Mariana Costa", "Rafael Sousa"),
    greetings=("Olá,", "Bom dia,", "Prezada equipa de apoio,", "Boa tarde,"),
    closings=("Obrigado,", "Cumprimentos,", "Com os melhores cumprimentos,", "Obrigada desde já,"),
    number="cliente n.º {n}",
    wrote="Em {date}, {who} escreveu:",
    ooo_subject="Resposta automática: {subject}",
    ooo_body="Estou fora do escritório até segunda-feira, com acesso limitado ao e-mail. "
    "Para assuntos urgentes, ligue para a receção.",
    filler=(
        "Obrigado pela sua paciência enquanto analisávamos o seu pedido de ajuda.",
        "Reencaminhámos a sua mensagem para a equipa responsável.",
        "Se tiver mais alguma questão, basta responder a este e-mail.",
        "Estamos disponíveis de segunda a sexta, das nove às dezoito.",
        "Agradecemos o tempo que dedicou a escrever-nos.",
        "Guarde este e-mail para os seus registos.",
    ),
    topics={
        "billing": (
            (
                "Cobrado duas vezes",
                "Verifiquei o meu extrato e fui cobrado duas vezes pela mesma fatura este mês. "
                "Podem fazer o reembolso do valor em duplicado?",
            ),
            (
                "Fatura sem NIF",
                "A fatura que recebi não tem o meu NIF. Preciso de uma fatura corrigida para a "
                "contabilidade.",
            ),
        ),
        "technical": (
            (
                "O ecrã fica branco",
                "Desde a última atualização a aplicação fica com o ecrã branco quando tento enviar "
                "uma foto. Já voltei a instalar e continua a não funcionar.",
            ),
            (
                "Erro ao exportar",
                "Quando exporto o relatório aparece uma página em branco com o erro 500. Na semana "
                "passada funcionava.",
            ),
        ),
        "orders": (
            (
                "A encomenda não chegou",
                "Fiz uma encomenda há duas semanas e ainda não chegou. O rastreio não é atualizado "
                "há vários dias.",
            ),
            (
                "Produto errado",
                "Recebi hoje o casaco mas veio o tamanho errado. Como posso fazer a troca?",
            ),
        ),
        "account": (
            (
                "Alterar a palavra-passe",
                "Não consigo entrar na minha conta desde ontem. O link para alterar a palavra-passe "
                "diz que expirou.",
            ),
            (
                "Apagar a minha conta",
                "Já não utilizo o serviço. Por favor apaguem a minha conta e os meus dados pessoais "
                "e confirmem quando estiver feito.",
            ),
        ),
        "general": (
            (
                "Loja física em Lisboa?",
                "Gostaria de ver os sofás pessoalmente antes de decidir. Têm uma loja perto de "
                "Lisboa, aberta ao sábado?",
            ),
            (
                "Elogio à vossa equipa",
                "Só queria dizer que a colega que me atendeu ontem ao telefone foi muito simpática "
                "e paciente. Vou recomendar-vos aos meus amigos.",
            ),
        ),
    },
)

LANGUAGES: tuple[Language, ...] = (EN, ES, NL, DE, FR, PT)
